//! A TCP printer that answers at once: every `DLE EOT n` gets "ready" (`0x12`), and the moment
//! the last byte of each slip (the cut, `GS V m`, `GS V 65/66 m n`) arrives is reported on a
//! channel. The kiosk's ESC/POS backend talks to it as to a network printer on port 9100.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::mpsc;

/// A running printer.
pub(crate) struct PrinterSink {
    port: u16,
    slips: mpsc::UnboundedReceiver<Instant>,
    stop: Arc<AtomicBool>,
}

impl PrinterSink {
    /// Listens on 127.0.0.1 (a free port).
    pub(crate) fn start() -> Result<PrinterSink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let (tx, slips) = mpsc::unbounded_channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("printer-sink".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let tx = tx.clone();
                            let stopped = Arc::clone(&stopped);
                            let _ = std::thread::Builder::new()
                                .name("printer-conn".into())
                                .spawn(move || serve(stream, &tx, &stopped));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })?;
        Ok(PrinterSink { port, slips, stop })
    }

    /// The kiosk's printer URL for it.
    pub(crate) fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// When the next slip's last byte arrived (waits up to `timeout`).
    pub(crate) async fn next_slip(&mut self, timeout: Duration) -> Option<Instant> {
        tokio::time::timeout(timeout, self.slips.recv())
            .await
            .ok()
            .flatten()
    }

    /// Forgets slips reported so far.
    pub(crate) fn drain(&mut self) {
        while self.slips.try_recv().is_ok() {}
    }
}

impl Drop for PrinterSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    mut stream: std::net::TcpStream,
    slips: &mpsc::UnboundedSender<Instant>,
    stop: &AtomicBool,
) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 16 * 1024];
    // The bytes not yet understood (a command may straddle two reads).
    let mut pending: Vec<u8> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
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
        let now = Instant::now();
        pending.extend_from_slice(buf.get(..n).unwrap_or_default());
        let mut replies = Vec::new();
        let mut i = 0;
        while i < pending.len() {
            match pending.get(i..) {
                Some([0x10, 0x04, 1..=4, ..]) => {
                    replies.push(0x12);
                    i += 3;
                }
                Some([0x1D, 0x56, 0x41 | 0x42, _, ..]) => {
                    let _ = slips.send(now);
                    i += 4;
                }
                Some([0x1D, 0x56, 0x41 | 0x42] | [0x1D, 0x56] | [0x1D] | [0x10, 0x04] | [0x10]) => {
                    break;
                }
                Some([0x1D, 0x56, _, ..]) => {
                    let _ = slips.send(now);
                    i += 3;
                }
                _ => i += 1,
            }
        }
        pending.drain(..i.min(pending.len()));
        if !replies.is_empty() && stream.write_all(&replies).is_err() {
            return;
        }
    }
}
