//! Compiles the UI (`ui/app-window.slint` and what it imports) to Rust.

fn main() {
    // Element ids and type names in the generated code: the tests (Slint's
    // testing backend) find elements through them, in debug and release
    // builds alike (`make test` builds release). They cost a few kilobytes.
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    if let Err(err) = slint_build::compile_with_config("ui/app-window.slint", config) {
        // The diagnostics were printed above; this fails the build.
        panic!("the UI does not compile: {err}");
    }
}
