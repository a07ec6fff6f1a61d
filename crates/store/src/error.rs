//! The store's error type. Every variant names the file it is about.

use std::fmt;
use std::path::PathBuf;

/// Where in a rawfile's data section an error was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPosition {
    /// 1-based plot number in the file.
    pub plot: usize,
    /// 0-based point index.
    pub point: usize,
    /// 0-based variable index.
    pub variable: usize,
    /// 1-based line number (ASCII data) or `None` (binary data).
    pub line: Option<usize>,
    /// Byte offset into the file (binary data) or `None` (ASCII data).
    pub offset: Option<usize>,
}

impl fmt::Display for DataPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(
            f,
            "plot {}, point {}, variable {}",
            self.plot, self.point, self.variable
        )?;
        if let Some(off) = self.offset {
            write!(f, " (byte offset {off})")?;
        }
        Ok(())
    }
}

/// Errors of the store: I/O, malformed rawfiles, HDF5 and CSV problems.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An operating-system I/O error on a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A malformed rawfile header line (1-based line number).
    #[error("{}:{line}: {msg}", path.display())]
    RawHeader {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was expected.
        msg: String,
    },
    /// Malformed or missing rawfile data.
    #[error("{}: {pos}: {msg}", path.display())]
    RawData {
        /// The file.
        path: PathBuf,
        /// Where the problem is.
        pos: DataPosition,
        /// What was expected.
        msg: String,
    },
    /// An HDF5 problem, naming the dataset or attribute (`/` for the file itself).
    #[error("{}: {object}: {msg}", path.display())]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// Dataset, attribute or group path inside the file.
        object: String,
        /// What went wrong.
        msg: String,
    },
    /// A malformed CSV trace (1-based line and column).
    #[error("{}:{line}:{column}: {msg}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column number (field index).
        column: usize,
        /// What was expected.
        msg: String,
    },
    /// Any other problem with a file's contents.
    #[error("{}: {msg}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        msg: String,
    },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        StoreError::Format {
            path: path.into(),
            msg: msg.into(),
        }
    }

    pub(crate) fn h5(
        path: impl Into<PathBuf>,
        object: impl Into<String>,
        msg: impl fmt::Display,
    ) -> Self {
        StoreError::Hdf5 {
            path: path.into(),
            object: object.into(),
            msg: msg.to_string(),
        }
    }
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
