//! Runs benches/peer_bytewax.sh: Roo's word count against Bytewax's, same text, same user
//! logic (see the script). `cargo bench --bench peer`; the script's environment variables
//! (PEER_LINES, PEER_RUNS, ROO_BIN, ...) pass through.

use std::process::Command;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let status = Command::new("bash")
        .arg(format!("{root}/benches/peer_bytewax.sh"))
        .env("ROO_BIN", env!("CARGO_BIN_EXE_roo"))
        .current_dir(root)
        .status()
        .expect("run bash benches/peer_bytewax.sh");
    if !status.success() {
        eprintln!("benches/peer_bytewax.sh failed: {status}");
        std::process::exit(1);
    }
}
