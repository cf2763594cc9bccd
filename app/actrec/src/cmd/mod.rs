//! One module per subcommand.

pub mod build_engine;
pub mod check;
pub mod check_config;
pub mod ctl;
pub mod export;
pub mod hash_pin;
pub mod run;
pub mod verify_audit;
pub mod verify_export;
