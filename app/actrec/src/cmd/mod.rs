//! One module per subcommand.

pub mod check;
pub mod check_config;
pub mod ctl;
pub mod eval;
pub mod run;
pub mod synth;
