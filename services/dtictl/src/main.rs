//! `dtictl`: the platform's command-line tool. `main` only parses arguments, runs the chosen
//! command and maps its outcome to an exit code: 0 success, 2 invalid input or usage, 1 an
//! unexpected failure, 3 a check that found a problem (a broken audit chain) or a state change
//! the platform refused, 4 a caller who may not do what was asked.

use dtictl::{run, Failure};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = dtictl::help::parse(std::env::args_os());
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::InvalidInput(lines)) => {
            for line in lines {
                eprintln!("{line}");
            }
            ExitCode::from(2)
        }
        Err(Failure::Unexpected(error)) => {
            eprintln!(
                "{}",
                dtictl::tr!("dtictl-error", error = format!("{error:#}"))
            );
            ExitCode::from(1)
        }
        Err(Failure::Broken(report)) => {
            println!("{report}");
            ExitCode::from(3)
        }
        Err(Failure::Refused(lines)) => {
            for line in lines {
                eprintln!("{line}");
            }
            ExitCode::from(3)
        }
        Err(Failure::Denied(lines)) => {
            for line in lines {
                eprintln!("{line}");
            }
            ExitCode::from(4)
        }
    }
}
