//! The `leadline` binary.

fn main() -> std::process::ExitCode {
    leadline_server::cli::main()
}
