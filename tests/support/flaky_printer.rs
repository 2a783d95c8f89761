//! A TCP printer for the reliability tests that can be switched off and on again on the same
//! port: [`FlakyPrinter::close`] stops listening and drops every open connection (a printer
//! switched off, or its network cable pulled), [`FlakyPrinter::reopen`] listens again on the same
//! port. [`FlakyPrinter::close_after`] arms a close in the middle of the next job, after that many
//! bytes of it. Like `printer::emulator::TcpPrinterEmulator` it records every byte it receives
//! and answers each `DLE EOT n` with "ready" (`0x12`).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    /// Every byte received, over all connections.
    received: Vec<u8>,
    /// Open connections (clones, to shut them down).
    streams: Vec<TcpStream>,
    /// Close everything once this many more job bytes (not status requests) arrived.
    close_after: Option<usize>,
    /// How many times the printer closed by itself (an armed close fired).
    closes_fired: u32,
}

struct Shared {
    state: Mutex<State>,
    /// Set when an armed close fired: the listener stops too.
    off: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shuts every open connection down (the kiosk sees a reset or end of stream).
    fn drop_connections(&self) {
        for stream in self.lock().streams.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// The listener thread of one "on" period.
struct Listening {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// A printer that can be switched off and on.
pub struct FlakyPrinter {
    addr: SocketAddr,
    shared: Arc<Shared>,
    listening: Option<Listening>,
}

impl FlakyPrinter {
    /// Starts listening on a free port of 127.0.0.1.
    pub fn start() -> FlakyPrinter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            off: AtomicBool::new(false),
        });
        let mut printer = FlakyPrinter {
            addr,
            shared,
            listening: None,
        };
        printer.listen(listener);
        printer
    }

    fn listen(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) && !shared.off.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        if let Ok(clone) = stream.try_clone() {
                            shared.lock().streams.push(clone);
                        }
                        let shared = Arc::clone(&shared);
                        std::thread::spawn(move || serve(stream, &shared));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // Dropping the listener closes the port.
        });
        self.listening = Some(Listening { stop, thread });
    }

    /// The kiosk's printer URL.
    pub fn url(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    /// Switches the printer off: the port closes and open connections are dropped.
    pub fn close(&mut self) {
        if let Some(listening) = self.listening.take() {
            listening.stop.store(true, Ordering::SeqCst);
            listening.thread.join().unwrap();
        }
        self.shared.drop_connections();
    }

    /// Switches it on again, on the same port.
    pub fn reopen(&mut self) {
        if self.shared.off.load(Ordering::SeqCst) {
            self.close();
        }
        assert!(self.listening.is_none(), "the printer is already on");
        self.shared.off.store(false, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(30);
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.listen(listener);
    }

    /// Whether it is on.
    pub fn is_open(&self) -> bool {
        self.listening.is_some() && !self.shared.off.load(Ordering::SeqCst)
    }

    /// Arms a close: once `bytes` more job bytes arrived, the printer drops its connections and
    /// stops listening (until [`FlakyPrinter::reopen`]).
    pub fn close_after(&mut self, bytes: usize) {
        self.shared.lock().close_after = Some(bytes);
    }

    /// How many armed closes have fired (each switched the printer off).
    pub fn closes_fired(&self) -> u32 {
        self.shared.lock().closes_fired
    }

    /// Every byte received so far.
    pub fn received(&self) -> Vec<u8> {
        self.shared.lock().received.clone()
    }
}

impl Drop for FlakyPrinter {
    fn drop(&mut self) {
        self.close();
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 4096];
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        };
        let chunk = &buf[..n];
        // Status requests (possibly straddling reads) get "ready".
        tail.extend_from_slice(chunk);
        let mut replies = Vec::new();
        let mut status_bytes = 0;
        for w in tail.windows(3) {
            if let [0x10, 0x04, 1..=4] = *w {
                replies.push(0x12);
                status_bytes += 3;
            }
        }
        let keep = tail.len().saturating_sub(2);
        tail.drain(..keep);
        let fire = {
            let mut state = shared.lock();
            state.received.extend_from_slice(chunk);
            let job = chunk.len().saturating_sub(status_bytes);
            match state.close_after {
                Some(left) if job >= left && job > 0 => {
                    state.close_after = None;
                    state.closes_fired += 1;
                    true
                }
                Some(left) => {
                    state.close_after = Some(left - job);
                    false
                }
                None => false,
            }
        };
        if fire {
            shared.off.store(true, Ordering::SeqCst);
            shared.drop_connections();
            return;
        }
        if !replies.is_empty() && stream.write_all(&replies).is_err() {
            return;
        }
    }
}
