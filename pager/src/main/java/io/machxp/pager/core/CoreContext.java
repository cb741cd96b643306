package io.machxp.pager.core;

import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.page.PageOutput;
import io.machxp.proto.xp.PagerToKernel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every part of the pager core shares: the pager's name and page size, the objects it
 * serves, its env and stats, and the two things every part does to a kernel - send it a message
 * and refuse one of its messages. It is also what {@link io.machxp.pager.page.PageCoherence}
 * sends, refuses and reports store failures through. Every part logs as {@link PagerCore}, so the
 * log reads as one core's. Pager core thread only.
 */
final class CoreContext implements PageOutput {
    static final Logger log = LoggerFactory.getLogger(PagerCore.class);

    final String name;
    final int pageSize;
    final ObjectCatalog catalog;
    final PagerEnv env;
    final PagerStats stats;
    /** Bugs planted for tests of the chaos checker; {@link PagerPlants#NONE} everywhere else. */
    final PagerPlants plants;
    /** The core's timers, kept as data for snapshots. */
    final CoreTimers timers;
    /** The deadlines of the answers the pager waits for; set once the core is built. */
    AnswerDeadlines answers;
    /** What the store failed to write, tried again, and the answers held until it is written. */
    final StoreRetries retries = new StoreRetries(this);
    /** Who holds each futex, published for another thread ({@link PagerCore#publishHolders}); off by default. */
    FutexHolderMap holders = FutexHolderMap.OFF;
    /** The WARN lines of refused messages, rate-limited. */
    private final RefusalLog refusals = new RefusalLog();

    CoreContext(String name, int pageSize, ObjectCatalog catalog, PagerEnv env, PagerStats stats, PagerPlants plants) {
        this.name = name;
        this.plants = plants;
        this.pageSize = pageSize;
        this.catalog = catalog;
        this.env = env;
        this.stats = stats;
        this.timers = new CoreTimers(env);
    }

    /** Sends on the session's stream; nothing to a broken one (its stream is gone; it waits for its lease). */
    @Override
    public void send(KernelSession s, PagerToKernel m) {
        if (s.broken) {
            return;
        }
        if (!s.outbox.isEmpty()) {
            s.outbox.add(new KernelSession.Outgoing(m, true)); // behind one that waits for the store
            return;
        }
        transmit(s, m);
    }

    /** Onto the session's stream now, numbered in its replay log if it keeps one. */
    private void transmit(KernelSession s, PagerToKernel m) {
        stats.sent(s, m);
        if (s.replay != null) {
            s.replay.sent(m);
        }
        env.send(s.id, m);
    }

    /**
     * Sends {@code m} once {@code io} (a store write) is done, and everything sent to the kernel
     * after it behind it: the stream's order is kept. A failed write is reported and tried again
     * (see {@link StoreRetries}) while the session lasts and {@code current} holds: the message
     * waits until it succeeds.
     */
    void sendAfterStore(KernelSession s, PagerToKernel m, Runnable io, java.util.function.BooleanSupplier current) {
        KernelSession.Outgoing waiting = new KernelSession.Outgoing(m, false);
        if (s.outbox.isEmpty()) {
            s.outboxBlockedSince = env.nanoTime(); // what is sent to s from now waits (AnswerDeadlines#sentAt)
        }
        s.outbox.add(waiting);
        submitBefore(s, waiting, io, current, false);
    }

    private void submitBefore(KernelSession s, KernelSession.Outgoing waiting, Runnable io,
            java.util.function.BooleanSupplier current, boolean again) {
        env.storeEffect(io, failure -> {
            if (failure == null) {
                if (again) {
                    retries.otherWritten(); // a failed entry is written: the store works again
                }
                sent(s, waiting);
            } else if (s.gone || !current.getAsBoolean()) {
                journalFailed("the futex holders' journal entry before a grant to " + s + ", which no longer stands "
                        + "(the futex went on): the grant is not sent", failure);
                dropped(s, waiting);
            } else {
                String what = "the futex holders' journal entry before a grant to " + s + " (the grant and what "
                        + "follows it to that kernel wait until it is written; it is written again within "
                        + StoreRetries.LONGEST_WAIT_NANOS / 1_000_000_000L + " s): free space on the store's disk, "
                        + "or fix its backend";
                journalFailed(what, failure);
                retries.retryLater(() -> {
                    if (s.gone || !current.getAsBoolean()) { // it went on meanwhile: the entry must not come back
                        dropped(s, waiting);
                    } else {
                        submitBefore(s, waiting, io, current, true);
                    }
                });
            }
        });
    }

    /** {@code waiting}, whose write failed, no longer stands: it is not sent, what waits behind it is. */
    private void dropped(KernelSession s, KernelSession.Outgoing waiting) {
        s.outbox.remove(waiting);
        sent(s, null);
    }

    /** {@code waiting} (if any) may go: the ready messages at the outbox's head go out, in order (nothing to a broken stream). */
    private void sent(KernelSession s, KernelSession.Outgoing waiting) {
        if (waiting != null) {
            waiting.ready = true;
        }
        boolean waited = !s.outbox.isEmpty();
        while (!s.outbox.isEmpty() && s.outbox.peek().ready) {
            PagerToKernel next = s.outbox.poll().message;
            if (!s.broken) {
                transmit(s, next);
            }
        }
        if (waited && s.outbox.isEmpty()) {
            s.outboxFlushedFrom = s.outboxBlockedSince; // what was asked of s meanwhile went out now
            s.outboxFlushedAt = env.nanoTime();
            if (answers != null) {
                answers.watchIfOwed(s); // a request that waited is owed from now: its deadline is watched
            }
        }
    }

    /** A message broke the protocol: counted, and logged within {@link RefusalLog}'s rate; the caller changes nothing. */
    @Override
    public void refuse(KernelSession s, String what) {
        stats.refused.increment();
        refusals.refused(log, env.nanoTime(), name, s, what);
    }

    /**
     * The page becomes the object's copy now (kept in memory until written); the write is an
     * effect the env runs off the core thread, its outcome fed back here.
     */
    @Override
    public void storeWrite(KernelSession from, MemoryObject object, long offset, byte[] data, long version, String what) {
        object.stage(offset, data, version);
        submitWrite(object, offset, data, version, from, what);
    }

    @Override
    public boolean storeUnjudged(KernelSession from, MemoryObject object, long offset, byte[] data, long kernelVersion,
            String what) {
        long version = object.stageUnjudged(offset, data, kernelVersion);
        if (version < 0) {
            return false; // not newer than the data kept unjudged: that stays
        }
        submitJudged(object, offset, data, version, from, what);
        return true;
    }

    /** Has the store judge and write data kept by {@link MemoryObject#stageUnjudged}; a failure is tried again. */
    void submitJudged(MemoryObject object, long offset, byte[] data, long kernelVersion, KernelSession from,
            String what) {
        MemoryObject.Judged[] judged = {null};
        env.storeEffect(() -> judged[0] = object.writeJudged(offset, data, kernelVersion), failure -> {
            if (failure == null) {
                object.judged(offset, data);
                if (object.unjudged(offset) == null) {
                    notJudgedLogged.remove(object.name() + "@" + offset);
                }
                if (!judged[0].written()) {
                    log.warn("pager {}: the data kept in memory for page 0x{} of '{}' (version {}) is not newer than "
                            + "the store's (version {}), or is more than 2^32 above it or not below 2^63 (xp-spec 7.3): "
                            + "not taken", name, Long.toHexString(offset), object.name(),
                            kernelVersion, judged[0].version());
                }
                retries.pageWritten(object, offset, judged[0].version());
            } else {
                retries.pageFailed(object, offset, kernelVersion, from, what, failure);
            }
        });
    }

    /**
     * Has the store write a staged page ({@code from}: the session whose return it is, or null);
     * a failure keeps it staged and is tried again ({@link StoreRetries}).
     */
    void submitWrite(MemoryObject object, long offset, byte[] data, long version, KernelSession from, String what) {
        env.storeEffect(() -> object.persist(offset, data, version), failure -> {
            if (failure == null) {
                object.persisted(offset, version);
                retries.pageWritten(object, offset, version);
            } else {
                retries.pageFailed(object, offset, version, from, what, failure);
            }
        });
    }

    @Override
    public <T> void pageEffect(io.machxp.pager.page.PageKey key, java.util.function.Supplier<T> io,
            java.util.function.Consumer<T> done) {
        env.pageEffect(key.object() + "@" + key.offset(), io, done);
    }

    @Override
    public long nanoTime() {
        return env.nanoTime();
    }

    @Override
    public void awaiting(KernelSession to) {
        answers.asked(to);
    }

    @Override
    public void owed(KernelSession to, long askedNanos, long order, java.util.function.BooleanSupplier stillOwed,
            java.util.function.Supplier<String> what) {
        answers.pageOwed(to, askedNanos, order, stillOwed, what);
    }

    @Override
    public void walked(long entries) {
        stats.walked.add(entries);
    }

    @Override
    public void settled(long entries) {
        stats.settled.add(entries);
    }

    @Override
    public void answered(KernelSession from, long askedNanos) {
        answers.answered(from, askedNanos);
    }

    /**
     * Pages read while data given back for them waited unjudged, logged once each until judged:
     * not a store failure (the judging write, if it fails, is one).
     */
    private final java.util.Set<String> notJudgedLogged = new java.util.HashSet<>();

    @Override
    public void storeFailed(String what, RuntimeException e) {
        if (e instanceof MemoryObject.NotJudged n) {
            if (notJudgedLogged.add(n.page())) {
                log.warn("pager {}: {}: {} (logged once for the page until its data is judged)", name, what,
                        e.getMessage());
            }
            return;
        }
        if (e instanceof io.machxp.pager.store.StoreDamage d) { // its message says it all: where, what, what to do
            stats.storeDamaged.increment();
            if (d.toBeLogged()) { // the first time for the page, then at most once a minute until it is rewritten
                log.error("pager {}: PAGE STORE DAMAGE: {}: {}{}", name, what, e.getMessage(), d.seen() == 1 ? ""
                        : " (found " + d.seen() + " times since the page was last written; logged at most once a "
                        + "minute)");
            }
            return;
        }
        stats.storeFailures.increment();
        log.error("pager {}: PAGE STORE FAILURE: {}: {}", name, what, e.getMessage(), e);
    }

    /** Whether a failed write of the holders' journal was logged with its stack trace already. */
    private boolean journalTraced;

    /**
     * A write of the futex holders' journal failed: counted and logged in a line with the cause's
     * message; only the pager's first such failure with its stack trace (a disk that stays full
     * fails every grant's and release's entry, and each retry).
     */
    void journalFailed(String what, RuntimeException e) {
        if (journalTraced) {
            storeFailedAgain(what, e);
        } else {
            journalTraced = !(e instanceof io.machxp.pager.store.StoreDamage); // damage is logged without one
            storeFailed(what, e);
        }
    }

    /** The page store failed again as before: counted and logged in a line (the first failure had the stack trace). */
    void storeFailedAgain(String what, RuntimeException e) {
        stats.storeFailures.increment();
        log.error("pager {}: PAGE STORE FAILURE (again): {}: {}", name, what, e.getMessage());
    }
}
