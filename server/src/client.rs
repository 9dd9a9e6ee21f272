//! Uploading batches to a server.
