//! Every error's message in one place, for review: run
//! `cargo test --test error_messages -- --nocapture` to read them all.
//! Each message names the broken rule (with its RFC 6455 section, or the
//! `Config` limit), and the wrapping `Error` says what the caller does next.

use std::collections::HashSet;

use hybi::{Error, HandshakeError as H, ProtocolError as P, UsageError as U};

const PROTOCOL: &[P] = &[
    P::UnmaskedClientFrame,
    P::MaskedServerFrame,
    P::ReservedBits,
    P::ReservedOpcode,
    P::InvalidLength,
    P::ControlFrameTooLong,
    P::FragmentedControlFrame,
    P::UnexpectedContinuation,
    P::ExpectedContinuation,
    P::InvalidUtf8,
    P::FrameTooBig,
    P::MessageTooBig,
    P::TooManyFragments,
    P::InvalidClosePayload,
    P::InvalidCloseCode,
    P::InvalidCloseReason,
];

const HANDSHAKE: &[H] = &[
    H::MalformedRequest,
    H::MethodNotGet,
    H::UnsupportedHttpVersion,
    H::MissingHost,
    H::RepeatedHost,
    H::RequestBody,
    H::MissingUpgrade,
    H::MissingConnectionUpgrade,
    H::InvalidKey,
    H::UnsupportedVersion,
    H::HeadersTooLarge,
    H::TooManyHeaders,
    H::MalformedResponse,
    H::ResponseTooLarge,
    H::ResponseMissingUpgrade,
    H::ResponseMissingConnectionUpgrade,
    H::InvalidAccept,
    H::UnexpectedProtocol,
    H::UnexpectedExtension,
];

const USAGE: &[U] = &[
    U::NotOpen,
    U::Closed,
    U::NoPendingRequest,
    U::ProtocolNotOffered,
    U::InvalidHeader,
    U::InvalidStatus,
    U::InvalidTarget,
    U::InvalidHost,
    U::InvalidOrigin,
    U::InvalidProtocol,
    U::ControlPayloadTooLong,
    U::InvalidCloseCode,
    U::CloseReasonTooLong,
    U::FragmentInProgress,
    U::FragmentKindMismatch,
];

fn names_its_rule(message: &str) -> bool {
    ["RFC 6455 §", "RFC 7230 §", "max_"]
        .iter()
        .any(|rule| message.contains(rule))
}

#[test]
fn every_error_message_names_its_rule_and_the_next_step() {
    let mut seen = HashSet::new();
    println!("-- protocol errors (peer broke RFC 6455) --");
    for &e in PROTOCOL {
        let error = Error::Protocol(e);
        let text = error.to_string();
        println!("{:>4}  {text}", e.close_code());
        assert!(names_its_rule(&e.to_string()), "{e:?}: {e}");
        assert!(text.contains("flush transmit, then close TCP"), "{text}");
        assert!(matches!(e.close_code().0, 1002 | 1007 | 1009));
        assert!(seen.insert(e.to_string()), "duplicate message for {e:?}");
    }
    println!("-- handshake errors --");
    for &e in HANDSHAKE {
        let error = Error::Handshake(e);
        let text = error.to_string();
        let status = e.status().map_or("    ".to_string(), |s| format!("{s:>4}"));
        println!("{status}  {text}");
        assert!(names_its_rule(&e.to_string()), "{e:?}: {e}");
        match e.status() {
            Some(s) => {
                assert!(matches!(s, 400 | 405 | 426 | 431));
                assert!(
                    text.contains(&format!("HTTP {s} response queued")),
                    "{text}"
                );
            }
            None => assert!(text.ends_with("close TCP"), "{text}"),
        }
        assert!(seen.insert(e.to_string()), "duplicate message for {e:?}");
    }
    println!("-- usage errors (the call was wrong; nothing changed) --");
    for &e in USAGE {
        let text = Error::Usage(e).to_string();
        println!("      {text}");
        assert!(text.ends_with("the connection is unchanged"), "{text}");
        assert!(seen.insert(e.to_string()), "duplicate message for {e:?}");
    }
    // A bad field names the field and the rule it breaks.
    for e in [
        U::InvalidHeader,
        U::InvalidStatus,
        U::InvalidTarget,
        U::InvalidHost,
        U::InvalidOrigin,
        U::InvalidProtocol,
    ] {
        assert!(e.to_string().contains("(RFC "), "{e:?}: {e}");
    }
    let random = Error::Random(hybi::RandomUnavailable).to_string();
    println!("-- the random source --\n      {random}");
    assert!(random.contains("RFC 6455 §10.3") && random.contains("no connection was made"));
}

#[test]
fn close_codes_follow_section_7_4_1() {
    assert_eq!(P::InvalidUtf8.close_code().0, 1007);
    assert_eq!(P::InvalidCloseReason.close_code().0, 1007);
    assert_eq!(P::FrameTooBig.close_code().0, 1009);
    assert_eq!(P::MessageTooBig.close_code().0, 1009);
    assert_eq!(P::TooManyFragments.close_code().0, 1009);
    assert_eq!(P::ReservedOpcode.close_code().0, 1002);
    assert_eq!(H::UnsupportedVersion.status(), Some(426));
    assert_eq!(H::MethodNotGet.status(), Some(405));
    assert_eq!(H::InvalidAccept.status(), None);
}
