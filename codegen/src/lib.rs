//! Bot drafts: turns the miner's top candidates into bot definitions (YAML), renders them as scripts
//! through templates, and replays them to check that they do what the routine did.
//!
//! What it must never do: change the UI log or the mining results it reads.
