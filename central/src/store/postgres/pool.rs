//! A bounded pool of connections to one PostgreSQL database.
//!
//! A call takes a connection for the length of its transaction and gives it back afterwards. At
//! most [`MAX_CONNECTIONS`] are open at once per store (so several service instances together
//! stay well under the server's `max_connections`); a call that finds all of them busy waits up
//! to [`CHECKOUT_TIMEOUT`] for one to come back. Each connection keeps the statements it
//! prepared, so a statement is parsed once per connection, not once per call. A connection the
//! server closed is dropped rather than handed out again.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls, Statement};

use super::conn::connect_error;
use crate::store::StoreError;

/// Connections one store opens at most.
pub(super) const MAX_CONNECTIONS: usize = 16;

/// How long a call waits for a free connection before failing.
pub(super) const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection and the statements prepared on it (keyed by the SQL as written).
pub(super) struct Session {
    /// The connection.
    pub(super) client: Client,
    /// Prepared statements.
    pub(super) statements: HashMap<String, Statement>,
}

/// Opens a connection.
pub(super) fn connect(config: &Config) -> Result<Session, StoreError> {
    let client = config.connect(NoTls).map_err(|e| connect_error(&e))?;
    Ok(Session {
        client,
        statements: HashMap::new(),
    })
}

struct State {
    idle: Vec<Session>,
    /// Connections open, idle or lent.
    open: usize,
}

/// Connections to one database.
pub(super) struct Pool {
    config: Config,
    state: Mutex<State>,
    returned: Condvar,
}

impl Pool {
    /// A pool for the database `config` names, starting with `first` (already open).
    pub(super) fn new(config: Config, first: Session) -> Self {
        Self {
            config,
            state: Mutex::new(State {
                idle: vec![first],
                open: 1,
            }),
            returned: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a list and a count, consistent after every statement: nothing to repair
        // after a panic elsewhere.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection: an idle one, a new one while fewer than [`MAX_CONNECTIONS`] are open, or
    /// the first one given back within [`CHECKOUT_TIMEOUT`].
    pub(super) fn checkout(&self) -> Result<Lease<'_>, StoreError> {
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        let mut state = self.state();
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    session: Some(session),
                });
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return match connect(&self.config) {
                    Ok(session) => Ok(Lease {
                        pool: self,
                        session: Some(session),
                    }),
                    Err(e) => {
                        self.release(None);
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Unavailable(format!(
                    "no database connection became free within {} s",
                    CHECKOUT_TIMEOUT.as_secs()
                )));
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Takes a connection back (or, for `None`, counts one fewer open).
    fn release(&self, session: Option<Session>) {
        let mut state = self.state();
        match session {
            Some(session) if !session.client.is_closed() => state.idle.push(session),
            _ => state.open = state.open.saturating_sub(1),
        }
        drop(state);
        self.returned.notify_one();
    }
}

impl Drop for Pool {
    /// Closes the idle connections on a thread of their own: closing talks to the server
    /// through the client's own runtime, which cannot run on a thread that drives async tasks
    /// (where the last holder of the store may drop it).
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.state().idle);
        if !idle.is_empty() {
            let closing = std::thread::Builder::new()
                .name("postgres-close".into())
                .spawn(move || drop(idle));
            if let Err(e) = closing {
                tracing::warn!(error = %e, "cannot start a thread to close database connections");
            }
        }
    }
}

/// A connection lent by the pool; it goes back when dropped.
pub(super) struct Lease<'a> {
    pool: &'a Pool,
    session: Option<Session>,
}

impl Lease<'_> {
    /// The connection, `None` after [`Lease::discard`].
    pub(super) fn session(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    /// Closes the connection instead of giving it back (it failed in a way that leaves its
    /// state unknown).
    pub(super) fn discard(&mut self) {
        self.session = None;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.release(self.session.take());
    }
}
