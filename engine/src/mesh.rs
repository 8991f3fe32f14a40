//! The full mesh of bounded shared-nothing channels between cores, built on the main
//! thread and handed out one row and one column per core.

use glommio::channels::shared_channel::{
    self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};

/// One core's ends: a sender to every other core and a receiver from every other core
/// (`None` at its own index: local messages are handed over directly).
pub struct MeshEnds<T: Send + 'static> {
    pub to: Vec<Option<SharedSender<T>>>,
    pub from: Vec<Option<SharedReceiver<T>>>,
}

/// Channels for `cores` cores, each holding `capacity` items before senders wait.
pub fn full_mesh<T: Send + 'static>(cores: usize, capacity: usize) -> Vec<MeshEnds<T>> {
    let mut ends: Vec<MeshEnds<T>> = (0..cores)
        .map(|_| MeshEnds {
            to: (0..cores).map(|_| None).collect(),
            from: (0..cores).map(|_| None).collect(),
        })
        .collect();
    for sender in 0..cores {
        for receiver in 0..cores {
            if sender != receiver {
                let (tx, rx) = shared_channel::new_bounded(capacity);
                ends[sender].to[receiver] = Some(tx);
                ends[receiver].from[sender] = Some(rx);
            }
        }
    }
    ends
}

pub struct ConnectedEnds<T: Send + 'static> {
    pub to: Vec<Option<ConnectedSender<T>>>,
    pub from: Vec<Option<ConnectedReceiver<T>>>,
}

impl<T: Send + 'static> MeshEnds<T> {
    /// Connects every end at once: a connect waits for the peer's, so doing them one by one
    /// could deadlock two cores waiting on each other.
    pub async fn connect(self) -> ConnectedEnds<T> {
        let senders: Vec<_> = self
            .to
            .into_iter()
            .map(|tx| {
                glommio::spawn_local(async move {
                    match tx {
                        Some(tx) => Some(tx.connect().await),
                        None => None,
                    }
                })
            })
            .collect();
        let receivers: Vec<_> = self
            .from
            .into_iter()
            .map(|rx| {
                glommio::spawn_local(async move {
                    match rx {
                        Some(rx) => Some(rx.connect().await),
                        None => None,
                    }
                })
            })
            .collect();
        let mut to = Vec::with_capacity(senders.len());
        for task in senders {
            to.push(task.await);
        }
        let mut from = Vec::with_capacity(receivers.len());
        for task in receivers {
            from.push(task.await);
        }
        ConnectedEnds { to, from }
    }
}
