//! Work spread over the machine's cores, results kept in order.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Stack of each worker thread: a file may nest as deep as the YAML parser allows, and
/// a thread's default 2 MiB is not enough for it unoptimised (the main thread has 8).
const STACK: usize = 8 * 1024 * 1024;

/// `work` applied to each item, on as many threads as there are cores (this thread
/// waits): the results in the items' order. Items are handed out one at a time, so a
/// large one does not hold the others back. Where no thread can be had, the work is
/// done on this thread.
pub fn map<I: Sync, T: Send>(items: &[I], work: impl Fn(&I) -> T + Sync) -> Vec<T> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if cores == 1 || items.len() < 2 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return done;
            };
            done.push((i, work(item)));
        }
    };
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores.min(items.len()))
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(scope, worker)
                    .ok()
            })
            .collect();
        // No thread to be had: the work is done here (what the threads left, too).
        let mut done = if threads.is_empty() {
            worker()
        } else {
            Vec::new()
        };
        for thread in threads {
            done.extend(
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        for (i, result) in done {
            slots[i] = Some(result);
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.expect("every item is worked on once"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_items_order_whatever_finishes_first() {
        let items: Vec<u64> = (0..23).collect();
        let results = map(&items, |&i| {
            // Earlier items finish last.
            std::thread::sleep(std::time::Duration::from_millis(23 - i));
            i * 10
        });
        let expected: Vec<u64> = items.iter().map(|i| i * 10).collect();
        assert_eq!(results, expected);
    }

    #[test]
    fn each_item_is_worked_on_once() {
        let calls = AtomicUsize::new(0);
        let items: Vec<usize> = (0..1000).collect();
        let results = map(&items, |&i| {
            calls.fetch_add(1, Ordering::Relaxed);
            i
        });
        assert_eq!(calls.into_inner(), 1000);
        assert_eq!(results, items);
    }

    #[test]
    fn no_item_no_thread() {
        let results: Vec<u8> = map(&[] as &[u8], |&i| i);
        assert!(results.is_empty());
    }
}
