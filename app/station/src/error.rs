//! Why the station could not start, or stopped on an error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error("{0}")]
    Media(#[from] actrec_media::MediaError),
    #[error("{path}: {message}")]
    Path { path: PathBuf, message: String },
    #[error("{0}")]
    Model(#[from] actrec_infer::InferError),
    #[error("inference: {0}")]
    Inference(String),
    #[error("panel socket: {0}")]
    Ipc(#[from] actrec_ipc::IpcError),
}
