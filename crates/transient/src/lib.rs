//! transient
