//! One module per subcommand.

pub mod check;
pub mod check_config;
