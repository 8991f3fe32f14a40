//! What Wallaroo's load tools (giles sender and receiver, data_receiver) took on their
//! command lines and `roo send`/`roo receive` take too, so a command from Wallaroo's docs
//! runs with only the program name changed.

use clap::Args;

/// Flags of the Pony runtime the Wallaroo tools were built on (`--ponythreads=1
/// --ponynoblock ...`): accepted and ignored, roo's tools size their own threads.
#[derive(Args, Debug, Default)]
pub struct PonyRuntimeFlags {
    #[arg(long, hide = true, value_name = "N")]
    ponythreads: Option<String>,
    #[arg(long, hide = true, value_name = "N")]
    ponyminthreads: Option<String>,
    #[arg(long, hide = true, value_name = "N")]
    ponymaxthreads: Option<String>,
    #[arg(long, hide = true, value_name = "N")]
    ponycdinterval: Option<String>,
    #[arg(long, hide = true, value_name = "N")]
    ponygcinitial: Option<String>,
    #[arg(long, hide = true, value_name = "N")]
    ponygcfactor: Option<String>,
    #[arg(long, hide = true, value_name = "N")]
    ponysuspendthreshold: Option<String>,
    #[arg(long, hide = true)]
    ponynoblock: bool,
    #[arg(long, hide = true)]
    ponypin: bool,
    #[arg(long, hide = true)]
    ponypinasio: bool,
    #[arg(long, hide = true)]
    ponynopin: bool,
    #[arg(long, hide = true)]
    ponynoyield: bool,
    #[arg(long, hide = true)]
    ponynoscale: bool,
}

/// What giles sender and receiver took when Dagon, Wallaroo's test orchestrator, ran
/// them: a name and Dagon's address. Accepted and ignored. `-n` may also stand alone:
/// data_receiver's `-n` is its --no-write.
#[derive(Args, Debug, Default)]
pub struct DagonFlags {
    #[arg(long, short = 'n', hide = true, value_name = "NAME", num_args = 0..=1)]
    name: Option<String>,
    #[arg(long, short = 'p', hide = true, value_name = "HOST:PORT")]
    phone_home: Option<String>,
}

/// A count as Wallaroo's docs write them: digits, optionally grouped with underscores
/// (`--interval 1_000_000_000`).
pub fn count(text: &str) -> Result<u64, String> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("'{text}' is not a whole number"));
    }
    digits.parse().map_err(|e| format!("'{text}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_may_group_digits_with_underscores() {
        assert_eq!(count("1_000_000_000"), Ok(1_000_000_000));
        assert_eq!(count("50"), Ok(50));
        assert!(count("1e9").is_err());
        assert!(count("_").is_err());
        assert!(count("-5").is_err());
    }
}
