//! Ops: one file each, forward and backward side by side.
