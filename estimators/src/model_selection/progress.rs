//! Progress of a search or a cross-validation: fits done out of the total, elapsed time and the
//! estimated time left — an `indicatif` progress bar when stderr is a terminal, `tracing`
//! events (target `kiln::model_selection`) otherwise. `verbose` as scikit-learn's: 0 silent;
//! 1 the totals and the progress; 2 also one line per fit (its score and time); 3 also the
//! training scores.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Reports the progress of `total` fits.
pub(crate) struct Progress {
    verbose: u8,
    total: usize,
    n_splits: usize,
    done: usize,
    start: Instant,
    bar: Option<indicatif::ProgressBar>,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Progress {
    /// Start reporting `n_candidates` x `n_splits` fits.
    pub(crate) fn new(verbose: u8, what: &str, n_candidates: usize, n_splits: usize) -> Progress {
        let total = n_candidates * n_splits;
        let mut bar = None;
        if verbose > 0 {
            let msg = format!(
                "{what}: fitting {n_splits} folds for each of {n_candidates} candidates, totalling {total} fits"
            );
            if std::io::stderr().is_terminal() {
                let b = indicatif::ProgressBar::new(total as u64);
                let style = indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {pos}/{len} fits, {elapsed_precise} elapsed, ~{eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                b.set_style(style.progress_chars("=> "));
                b.println(&msg);
                b.set_message(what.to_string());
                bar = Some(b);
            } else {
                tracing::info!(target: "kiln::model_selection", "{msg}");
            }
        }
        Progress { verbose, total, n_splits: n_splits.max(1), done: 0, start: Instant::now(), bar }
    }

    /// One fit done: candidate `c`, split `s`, its test score and fit + score time; the training
    /// score when one was computed.
    pub(crate) fn fit_done(&mut self, c: usize, s: usize, test: f64, train: Option<f64>, seconds: f64) {
        self.done += 1;
        if self.verbose == 0 {
            return;
        }
        let elapsed = self.start.elapsed();
        let left = if self.done > 0 {
            Duration::from_secs_f64(secs(elapsed) / self.done as f64 * (self.total - self.done) as f64)
        } else {
            Duration::ZERO
        };
        if self.verbose >= 2 {
            let train = match (self.verbose >= 3, train) {
                (true, Some(t)) => format!(" train score={t:.3}"),
                _ => String::new(),
            };
            let line = format!(
                "[CV {}/{}] END candidate {}; score={test:.3}{train} total time={seconds:.3}s",
                s + 1,
                self.n_splits,
                c + 1
            );
            match &self.bar {
                Some(b) => b.println(line),
                None => tracing::info!(target: "kiln::model_selection", "{line}"),
            }
        }
        match &self.bar {
            Some(b) => b.set_position(self.done as u64),
            None => {
                if s + 1 == self.n_splits {
                    tracing::info!(
                        target: "kiln::model_selection",
                        done = self.done,
                        total = self.total,
                        elapsed_s = secs(elapsed),
                        remaining_s = secs(left),
                        "{}/{} fits done ({} candidates), {:.1}s elapsed, ~{:.1}s left",
                        self.done,
                        self.total,
                        self.done / self.n_splits,
                        secs(elapsed),
                        secs(left)
                    );
                }
            }
        }
    }

    /// The fits done so far.
    pub(crate) fn done(&self) -> usize {
        self.done
    }

    /// Finish the bar.
    pub(crate) fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
