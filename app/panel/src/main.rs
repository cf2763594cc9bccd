//! `actrec-panel`: the operator panel. Connects to the engine's socket
//! (waiting for it, and reconnecting, for as long as it runs) and shows the
//! station full screen.

use std::path::PathBuf;

use actrec_panel::ui::AppWindow;
use actrec_panel::{Panel, Settings};
use anyhow::Context as _;
use clap::Parser;
use slint::ComponentHandle;

/// The operator panel of the actrec station.
#[derive(Parser)]
#[command(name = "actrec-panel", version, about)]
struct Args {
    /// The engine's control socket.
    #[arg(long, env = "ACTREC_SOCKET", default_value = "/run/actrec/engine.sock")]
    socket: PathBuf,
    /// Cover the whole screen (the kiosk backend always does).
    #[arg(long)]
    fullscreen: bool,
    /// Window size in logical pixels, e.g. 1024x600.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Print the manual page (roff) and exit, for packagers.
    #[arg(long, hide = true)]
    man_page: bool,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{text:?}: expected WIDTHxHEIGHT, e.g. 1280x800"))?;
    let number = |s: &str| {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (100..=10_000).contains(n))
            .ok_or_else(|| format!("{text:?}: {s:?} is not a size between 100 and 10000"))
    };
    Ok((number(w)?, number(h)?))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.man_page {
        use clap::CommandFactory;
        clap_mangen::Man::new(Args::command())
            .render(&mut std::io::stdout().lock())
            .context("cannot write the manual page")?;
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), socket = %args.socket.display(), "panel: starting");

    let app = AppWindow::new().context("cannot open the panel's window (is there a display?)")?;
    if let Some((width, height)) = args.size {
        app.window()
            .set_size(slint::LogicalSize::new(width as f32, height as f32));
    }
    if args.fullscreen {
        app.window().set_fullscreen(true);
    }
    let _panel = Panel::start(&app, Settings { socket: args.socket }).context("cannot start the panel")?;
    app.run().context("the panel's event loop failed")?;
    tracing::info!("panel: closed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1024x600"), Ok((1024, 600)));
        assert_eq!(parse_size("1920X1080"), Ok((1920, 1080)));
        assert!(parse_size("1024").is_err());
        assert!(parse_size("0x600").is_err());
        assert!(parse_size("ax600").is_err());
    }

    #[test]
    fn the_arguments_hold_together() {
        Args::command().debug_assert();
        let args =
            Args::try_parse_from(["actrec-panel", "--socket", "/tmp/e.sock", "--size", "1280x800"]).expect("parses");
        assert_eq!(args.socket, PathBuf::from("/tmp/e.sock"));
        assert_eq!(args.size, Some((1280, 800)));
        assert!(!args.fullscreen);
    }
}
