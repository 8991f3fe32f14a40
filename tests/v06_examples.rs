//! End-to-end tests of the Wallaroo 0.6 API examples: `examples/word_count_v06.py` (a named
//! source, `to` / `key_by` / `to_sink`, decorators) and `examples/market_spread.py` (two
//! named binary sources merged and keyed by symbol), each at 1 and 2 cores, with real `roo`
//! processes on loopback: fed by `roo send`, collected by `roo receive --out`, outputs
//! compared with values computed here independently.
//!
//! Every process is killed when its guard drops, and every wait is bounded, so nothing
//! outlives a failed test.

mod common;

use common::rng::Rng;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// Bound on `roo send` (it blocks while the worker applies backpressure).
const SEND_WITHIN: Duration = Duration::from_secs(30);
/// Bound on the receiver (a little more than its own `RECEIVER_TIMEOUT`).
const RECEIVE_WITHIN: Duration = Duration::from_secs(40);
/// Bound on the market data's `UPDATE` lines reaching the receiver's --out file.
const UPDATES_WITHIN: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// Word count with the 0.6 API

/// Words as word_count_v06.py's `split` finds them in one message: per '\n'-separated
/// line, lowercase, strip punctuation (and spaces), split on ' ', strip punctuation from
/// each piece, drop empties. (Stripping the whole line first only removes what the
/// pieces' own stripping removes; it is done anyway, to follow the app step by step.)
fn split_words(message: &str) -> Vec<String> {
    let punct = |c: char| PUNCTUATION.contains(c);
    let mut words = Vec::new();
    for line in message.split('\n') {
        let clean_line = line.to_lowercase();
        for word in clean_line.trim_matches(punct).split(' ') {
            let clean_word = word.trim_matches(punct);
            if !clean_word.is_empty() {
                words.push(clean_word.to_owned());
            }
        }
    }
    words
}

/// Deterministic text of `lines` lines: words from a small vocabulary (eight of them
/// frequent) in lower, Title and UPPER case, some non-ASCII, with punctuation around and
/// inside words, punctuation-only tokens, double, leading and trailing spaces, tabs inside
/// tokens, and a few empty lines.
fn text_lines(seed: u64, lines: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    const ONSETS: [&str; 12] = ["b", "d", "f", "k", "l", "m", "n", "p", "r", "s", "t", "w"];
    const VOWELS: [&str; 5] = ["a", "e", "i", "o", "u"];
    let mut vocab = rng.vocabulary(150, |_| 1..=3, &ONSETS, &VOWELS, &[]);
    vocab.extend(
        [
            "don't",
            "e-mail",
            "x.y",
            "42",
            "3rd",
            "o'clock",
            "well-known",
            "a",
            "café",
            "naïve",
            "über",
            "straße",
            "tab\tinside",
        ]
        .map(str::to_owned),
    );
    const BEFORE: [&str; 6] = ["(", "\"", "'", "[", "--", "_"];
    const AFTER: [&str; 10] = [",", ".", "!", "?", ";", ":", "...", ")", "\"", "'),"];
    const ALONE: [&str; 5] = ["--", "...", "&", "#", "*"];
    (0..lines)
        .map(|_| {
            if rng.below(60) == 0 {
                return String::new();
            }
            let mut line = String::new();
            if rng.below(15) == 0 {
                line.push_str(rng.pick(&[" ", "  ", "-- ", "\"'"]));
            }
            for t in 0..1 + rng.below(14) {
                if t > 0 {
                    line.push_str(if rng.below(15) == 0 { "  " } else { " " });
                }
                if rng.below(25) == 0 {
                    line.push_str(rng.pick(&ALONE));
                    continue;
                }
                if rng.below(8) == 0 {
                    line.push_str(rng.pick(&BEFORE));
                }
                // A few words are frequent (long runs of counts), most are rare.
                let word = if rng.below(3) == 0 {
                    vocab[rng.below(8) as usize].clone()
                } else {
                    rng.pick(&vocab)
                };
                match rng.below(10) {
                    0 | 1 => {
                        let mut c = word.chars();
                        let first: String = c.next().unwrap().to_uppercase().collect();
                        line.push_str(&first);
                        line.push_str(c.as_str());
                    }
                    2 => line.push_str(&word.to_uppercase()),
                    _ => line.push_str(&word),
                }
                if rng.below(4) == 0 {
                    line.push_str(rng.pick(&AFTER));
                }
            }
            if rng.below(15) == 0 {
                line.push_str(rng.pick(&[" ", "!  ", " ..."]));
            }
            line
        })
        .collect()
}

fn word_count_v06(cores: usize) {
    let dir = TempDir::new(&format!("wc06-{cores}"));
    let input = dir.path("in.txt");
    let out = dir.path("out");
    let lines = text_lines(17 + cores as u64, 500);
    write_lines(&input, &lines);
    assert!(std::fs::metadata(&input).unwrap().len() > 16 * 1024);

    // Each line is one message; count each word's occurrences here.
    let counts = count_words(&lines, split_words);
    for w in [
        "café",
        "naïve",
        "über",
        "don't",
        "e-mail",
        "x.y",
        "tab\tinside",
    ] {
        assert!(counts.contains_key(w), "the text should contain {w:?}");
    }
    assert!(counts.values().any(|&n| n > 100));
    let total: usize = counts.values().sum();
    let want = word_count_output(&counts);

    let (in_addr, out_addr) = (free_addr(), free_addr());
    let mut receiver = start_receiver(&out_addr, &out, total);
    let source = format!("Split and Count@{in_addr}");
    let mut worker = start_worker(
        &example("word_count_v06.py"),
        cores,
        true,
        &[],
        &["--in", &source, "--out", &out_addr],
    );
    send(
        &in_addr,
        &input,
        &["--connections", "2"],
        SEND_WITHIN,
        &[&worker],
    );
    expect_success(&mut receiver, RECEIVE_WITHIN, &[&worker]);
    assert_eq!(count_after(&receiver.stderr(), "received "), total as u64);
    expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
    let err = worker.stderr();
    assert_eq!(
        totals(&err),
        (lines.len() as u64, total as u64, 0),
        "frames in, messages out, errors:\n{err}"
    );
    assert_same_multiset(read_out(&out), want, "word count v0.6");
}

at_core_counts!(word_count_v06 = word_count_v06);

// ---------------------------------------------------------------------------------------
// Market spread

/// An order is rejected when (ask - bid) is at least this fraction of the mid price.
const MAX_SPREAD: f64 = 0.05;

struct Quote {
    symbol: String,
    bid: f64,
    ask: f64,
}

struct Order {
    symbol: String,
    id: u32,
    side: u8,
    quantity: u32,
    price: f64,
}

/// The 4-byte, space-padded symbol field.
fn symbol_field(symbol: &str) -> [u8; 4] {
    assert!(!symbol.is_empty() && symbol.len() <= 4 && symbol.is_ascii());
    let mut f = [b' '; 4];
    f[..symbol.len()].copy_from_slice(symbol.as_bytes());
    f
}

/// Market data frames: 4-byte BE length, then `>4sdd` (20 bytes).
fn market_bytes(quotes: &[Quote]) -> Vec<u8> {
    let mut b = Vec::with_capacity(quotes.len() * 24);
    for q in quotes {
        b.extend_from_slice(&20u32.to_be_bytes());
        b.extend_from_slice(&symbol_field(&q.symbol));
        b.extend_from_slice(&q.bid.to_be_bytes());
        b.extend_from_slice(&q.ask.to_be_bytes());
    }
    assert_eq!(b.len(), quotes.len() * 24);
    b
}

/// Order frames: 4-byte BE length, then `>4sIcId` (21 bytes).
fn order_bytes(orders: &[Order]) -> Vec<u8> {
    let mut b = Vec::with_capacity(orders.len() * 25);
    for o in orders {
        b.extend_from_slice(&21u32.to_be_bytes());
        b.extend_from_slice(&symbol_field(&o.symbol));
        b.extend_from_slice(&o.id.to_be_bytes());
        b.push(o.side);
        b.extend_from_slice(&o.quantity.to_be_bytes());
        b.extend_from_slice(&o.price.to_be_bytes());
    }
    assert_eq!(b.len(), orders.len() * 25);
    b
}

/// A price that `%.2f` and `{:.2}` cannot round differently: never an exact tie
/// (x.125, x.375, x.625, x.875 are the only 3-decimal ties an f64 holds exactly).
fn no_tie(p: f64) -> f64 {
    if (p * 8.0).fract() == 0.0 && (p * 4.0).fract() != 0.0 {
        p + 0.001
    } else {
        p
    }
}

/// Quotes for 24 symbols of 1 to 4 letters: every third with a wide spread (5% to 15% of
/// mid), the others narrow (0 to 4.9%), one with bid == ask, one crossed (ask < bid), and
/// one as close to the 5% boundary as f64 goes.
fn quotes(rng: &mut Rng) -> Vec<Quote> {
    const NAMES: [&str; 24] = [
        "A", "IBM", "AAPL", "MSFT", "GOOG", "F", "GE", "T", "AMZN", "NFLX", "BA", "XOM", "KO",
        "PEP", "INTC", "AMD", "NVDA", "ORCL", "SAP", "V", "MA", "JPM", "GS", "C",
    ];
    NAMES
        .iter()
        .enumerate()
        .map(|(i, &symbol)| {
            let bid =
                no_tie(10.0 + rng.below(200_000) as f64 / 100.0 + rng.below(999) as f64 / 7000.0);
            let ask = match i {
                5 => bid,
                6 => bid * 0.99,
                7 => bid * (1.0 + MAX_SPREAD / 2.0) / (1.0 - MAX_SPREAD / 2.0),
                _ if i % 3 == 0 => bid * (1.051 + rng.below(1000) as f64 / 10_000.0),
                _ => bid * (1.0 + rng.below(490) as f64 / 10_000.0),
            };
            Quote {
                symbol: symbol.to_owned(),
                bid,
                ask: no_tie(ask),
            }
        })
        .collect()
}

/// `n` orders on random symbols: the quoted ones, and `unquoted` ones.
fn orders(rng: &mut Rng, quotes: &[Quote], unquoted: &[&str], n: u32) -> Vec<Order> {
    let mut symbols: Vec<String> = quotes.iter().map(|q| q.symbol.clone()).collect();
    symbols.extend(unquoted.iter().map(|s| s.to_string()));
    (0..n)
        .map(|i| Order {
            symbol: rng.pick(&symbols),
            // Ids spread over the whole u32 range, still unique (1_000_003 is odd).
            id: i.wrapping_mul(1_000_003),
            side: if rng.below(2) == 0 { b'B' } else { b'S' },
            quantity: 1 + rng.below(500) as u32,
            price: 100.0 + rng.below(5000) as f64 / 100.0,
        })
        .collect()
}

/// `UPDATE SYMBOL BID ASK`, with the app's `%.2f`.
fn update_line(q: &Quote) -> String {
    format!("UPDATE {} {:.2} {:.2}", q.symbol, q.bid, q.ask)
}

/// The app's verdict on `o` given the last quote of each symbol, computed in the same
/// float operations.
fn verdict(o: &Order, book: &BTreeMap<&str, (f64, f64)>) -> String {
    match book.get(o.symbol.as_str()) {
        None => format!("REJECT {} {} no market data", o.id, o.symbol),
        Some(&(bid, ask)) => {
            let mid = (bid + ask) / 2.0;
            if ask - bid >= MAX_SPREAD * mid {
                format!("REJECT {} {} spread too wide", o.id, o.symbol)
            } else {
                format!("ACCEPT {} {}", o.id, o.symbol)
            }
        }
    }
}

/// Waits until the receiver's --out file holds `n` lines starting with `UPDATE `.
fn wait_for_updates(out: &Path, n: usize, receiver: &mut Proc, worker: &Proc) {
    let deadline = Instant::now() + UPDATES_WITHIN;
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let updates = text.lines().filter(|l| l.starts_with("UPDATE ")).count();
        if updates >= n {
            assert_eq!(updates, n, "more UPDATE lines than market records:\n{text}");
            return;
        }
        assert!(
            receiver.exited().is_none(),
            "the receiver exited early:\n{}",
            receiver.stderr()
        );
        assert!(
            Instant::now() < deadline,
            "only {updates} of {n} UPDATE lines within {UPDATES_WITHIN:?}; roo stderr:\n{}",
            worker.stderr()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Runs market_spread.py until SIGTERM: market data first (all of it delivered), then the
/// orders; returns the output lines and roo's stderr.
fn run_market_spread(
    cores: usize,
    name: &str,
    quotes: &[Quote],
    orders: &[Order],
) -> (Vec<String>, String) {
    let dir = TempDir::new(&format!("{name}-{cores}"));
    let (market_file, orders_file, out) = (
        dir.path("market.bin"),
        dir.path("orders.bin"),
        dir.path("out"),
    );
    std::fs::write(&market_file, market_bytes(quotes)).unwrap();
    std::fs::write(&orders_file, order_bytes(orders)).unwrap();
    let expect = quotes.len() + orders.len();

    let (orders_addr, nbbo_addr, out_addr) = (free_addr(), free_addr(), free_addr());
    let mut receiver = start_receiver(&out_addr, &out, expect);
    let inputs = format!("orders@{orders_addr},nbbo@{nbbo_addr}");
    let mut worker = start_worker(
        &example("market_spread.py"),
        cores,
        false,
        &[],
        &["--in", &inputs, "--out", &out_addr],
    );
    if !quotes.is_empty() {
        send(
            &nbbo_addr,
            &market_file,
            &["--binary", "--msg-size", "24"],
            SEND_WITHIN,
            &[&worker],
        );
        wait_for_updates(&out, quotes.len(), &mut receiver, &worker);
    }
    send(
        &orders_addr,
        &orders_file,
        &["--binary", "--msg-size", "25", "--connections", "2"],
        SEND_WITHIN,
        &[&worker],
    );
    expect_success(&mut receiver, RECEIVE_WITHIN, &[&worker]);
    assert_eq!(count_after(&receiver.stderr(), "received "), expect as u64);
    assert!(
        worker.exited().is_none(),
        "roo run without --exit-when-idle stopped by itself:\n{}",
        worker.stderr()
    );
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
    let err = worker.stderr();
    assert_eq!(
        totals(&err),
        (expect as u64, expect as u64, 0),
        "frames in, messages out, errors:\n{err}"
    );
    (read_out(&out), err)
}

fn market_spread(cores: usize) {
    let mut rng = Rng(41 + cores as u64);
    let quotes = quotes(&mut rng);
    let unquoted = ["ZZZZ", "Q", "NONE"];
    let orders = orders(&mut rng, &quotes, &unquoted, 3000);
    let book: BTreeMap<&str, (f64, f64)> = quotes
        .iter()
        .map(|q| (q.symbol.as_str(), (q.bid, q.ask)))
        .collect();
    let mut want: Vec<String> = quotes.iter().map(update_line).collect();
    let verdicts: Vec<String> = orders.iter().map(|o| verdict(o, &book)).collect();
    let kinds = |p: &str| {
        verdicts
            .iter()
            .filter(|v| v.starts_with(p) || v.ends_with(p))
            .count()
    };
    assert!(
        kinds("ACCEPT") > 1000 && kinds("spread too wide") > 500 && kinds("no market data") > 100,
        "the orders should meet every outcome"
    );
    want.extend(verdicts);

    let (got, _) = run_market_spread(cores, "spread", &quotes, &orders);
    // The market data was all out before any order went in.
    let updates: Vec<&String> = got.iter().take(quotes.len()).collect();
    assert!(
        updates.iter().all(|l| l.starts_with("UPDATE ")),
        "UPDATE lines first: {updates:?}"
    );
    assert_same_multiset(got, want, "market spread");
}

at_core_counts!(market_spread = market_spread);

fn market_spread_no_market_data(cores: usize) {
    let mut rng = Rng(99 + cores as u64);
    // Market data for two symbols only; orders on those and on four never quoted ones.
    let quotes = vec![
        Quote {
            symbol: "IBM".to_owned(),
            bid: 130.25,
            ask: 130.5,
        },
        Quote {
            symbol: "WIDE".to_owned(),
            bid: 10.0,
            ask: 20.0,
        },
    ];
    let unquoted = ["ZZZZ", "X", "IB", "IBMX"];
    let all: Vec<&str> = ["IBM", "WIDE"].iter().chain(&unquoted).copied().collect();
    let orders: Vec<Order> = (0..600u32)
        .map(|i| Order {
            symbol: rng.pick(&all).to_owned(),
            id: i,
            side: b'B',
            quantity: 10,
            price: 130.0,
        })
        .collect();
    let mut want: Vec<String> = quotes.iter().map(update_line).collect();
    assert_eq!(
        want,
        ["UPDATE IBM 130.25 130.50", "UPDATE WIDE 10.00 20.00"]
    );
    for o in &orders {
        want.push(match o.symbol.as_str() {
            "IBM" => format!("ACCEPT {} IBM", o.id),
            "WIDE" => format!("REJECT {} WIDE spread too wide", o.id),
            s => format!("REJECT {} {s} no market data", o.id),
        });
    }
    assert!(
        want.iter()
            .filter(|l| l.ends_with("no market data"))
            .count()
            > 300
    );

    let (got, _) = run_market_spread(cores, "nodata", &quotes, &orders);
    assert_same_multiset(got, want, "market spread, unquoted symbols");

    // And with no market data at all: every order is rejected.
    let (got, _) = run_market_spread(cores, "nodata-all", &[], &orders[..100]);
    let want: Vec<String> = orders[..100]
        .iter()
        .map(|o| format!("REJECT {} {} no market data", o.id, o.symbol))
        .collect();
    assert_same_multiset(got, want, "market spread, no market data at all");
}

at_core_counts!(market_spread_no_market_data = market_spread_no_market_data);
