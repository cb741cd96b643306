package io.machxp.conform;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one conformance case on the kit's case thread with its own deadline, whatever its target
 * (a pager or a kernel), and says what it found:
 * <pre>
 *  returns normally   -> PASS
 *  Violation          -> FAIL, with the rule and what was seen
 *  Skipped            -> SKIP, with why
 *  anything else      -> ERROR (the target went away, a bug of the kit); also a case that outlives
 *                        its deadline (it is interrupted)
 * </pre>
 * The probe is closed after the case, whatever happened.
 */
public final class CaseExecutor implements AutoCloseable {
    /** The message of an ERROR by timeout: the case's body may still be running (it was interrupted). */
    public static final String TIMED_OUT = "the case did not finish within its deadline";

    private final ExecutorService caseThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "conform-case");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param budgetNanos the case's own deadline (its probe waits no longer for an answer)
     * @param slackNanos how much longer the case may take in all (a restart, closing its probe)
     */
    public <P extends AutoCloseable> CaseResult run(ConformCase<P> c, P probe, long startedNanos, long budgetNanos,
            long slackNanos) {
        Future<?> body = caseThread.submit(() -> {
            c.body().run(probe);
            return null;
        });
        CaseResult.Outcome outcome;
        String message;
        try {
            body.get(budgetNanos + slackNanos, TimeUnit.NANOSECONDS);
            outcome = CaseResult.Outcome.PASS;
            message = "";
        } catch (ExecutionException e) {
            Throwable t = e.getCause();
            outcome = t instanceof Violation ? CaseResult.Outcome.FAIL
                    : t instanceof Skipped ? CaseResult.Outcome.SKIP : CaseResult.Outcome.ERROR;
            message = t instanceof Violation || t instanceof Skipped ? t.getMessage()
                    : t.getClass().getSimpleName() + ": " + t.getMessage();
        } catch (TimeoutException e) {
            body.cancel(true);
            outcome = CaseResult.Outcome.ERROR;
            message = TIMED_OUT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = CaseResult.Outcome.ERROR;
            message = "interrupted";
        } finally {
            try {
                probe.close();
            } catch (Exception e) {
                // a probe's cleanup never aborts the run: the target may have gone away
            }
        }
        return new CaseResult(c, outcome, message, (System.nanoTime() - startedNanos) / 1_000_000);
    }

    @Override
    public void close() {
        caseThread.shutdownNow();
    }
}
