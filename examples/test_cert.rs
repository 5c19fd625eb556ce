//! Writes a self-signed certificate for `localhost` and its key
//! (`cert.pem`, `key.pem`) into a directory, for the wss interop run.
//!
//! ```sh
//! cargo run --example test_cert -- /tmp/certs
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    std::fs::write(dir.join("cert.pem"), made.cert.pem())?;
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem())?;
    println!("wrote {0}/cert.pem and {0}/key.pem", dir.display());
    Ok(())
}
