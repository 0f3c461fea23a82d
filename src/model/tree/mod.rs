//! The tree below a server, shared by source servers and task target servers: disks →
//! physical volumes, volume groups → logical volumes, Btrfs filesystems → subvolumes,
//! networks.
//!
//! - `attrs`: one attribute struct per node, shared by input, row and view;
//! - `node`: reading a node's object into its attributes and its members (id, children);
//! - `input`: the tree as sent, and the rules that differ between pages;
//! - `rows`: the stored rows and how a sent tree becomes rows;
//! - `views`: how the pages serve a tree.

pub mod attrs;
pub mod input;
pub mod node;
pub mod rows;
pub mod views;

pub use input::{BtrfsInput, DiskInput, NetworkInput, TreeInput, TreeRules, VolumeGroupInput};
pub use rows::{IdAssigner, TreeRows};
