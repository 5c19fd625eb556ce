//! The three programs in `src/driver/programs.md` (compiled as doctests)
//! stay at most as long as the same programs with tokio-tungstenite: an
//! echo server in 22 lines, an Origin + cookie + subprotocol server in 38,
//! a client in 17.

#[test]
fn the_newcomer_programs_are_no_longer_than_tokio_tungstenites() {
    let text = include_str!("../src/driver/programs.md");
    let blocks: Vec<usize> = text
        .split("```no_run\n")
        .skip(1)
        .map(|rest| {
            let code = &rest[..rest.find("```").expect("closed block")];
            code.lines().count()
        })
        .collect();
    assert_eq!(blocks.len(), 3, "three programs");
    for (lines, limit) in blocks.iter().zip([22, 38, 17]) {
        assert!(
            *lines <= limit,
            "{lines} lines, the limit is {limit}: {blocks:?}"
        );
    }
}
