use std::process::ExitCode;

fn main() -> ExitCode {
    scimops::run(std::env::args_os())
}
