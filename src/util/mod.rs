//! The bottom layer beside `crypto`: crash-safe file writes, buffers that wipe what they leave
//! behind, process hardening and time formatting. Nothing here knows about keys, keystores or faces.

pub mod atomic_file;
pub mod process;
pub mod time;
pub mod zeroizing_writer;

pub use atomic_file::AtomicFile;
pub use time::format_time;
pub use zeroizing_writer::ZeroizingWriter;
