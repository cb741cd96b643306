package io.machxp.pager.core;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.pager.watch.XpTrace;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one pager, written by the core, readable from any thread. */
public final class PagerStats {
    private final EnumMap<KernelToPager.RoutineCase, LongAdder> received = new EnumMap<>(KernelToPager.RoutineCase.class);
    private final EnumMap<PagerToKernel.RoutineCase, LongAdder> sent = new EnumMap<>(PagerToKernel.RoutineCase.class);
    final LongAdder grants = new LongAdder();
    /** lock_futex requests that waited for a futex record (the records at their bound, FutexParking). */
    final LongAdder futexRequestsParked = new LongAdder();
    /** Idle cached futexes the pager asked back (relinquish_futex with try) to free records. */
    final LongAdder futexesAskedBack = new LongAdder();
    final LongAdder handoffs = new LongAdder();
    /** Direct handoff: forwards ordered, and reserved grants skipped (their target had left). */
    final LongAdder forwardsOrdered = new LongAdder();
    final LongAdder forwardsCancelled = new LongAdder();
    final LongAdder refused = new LongAdder();
    final LongAdder sessions = new LongAdder();
    final LongAdder storeFailures = new LongAdder();
    /** Reads of a damaged page ({@link io.machxp.pager.store.StoreDamage}): answered with data_error. */
    final LongAdder storeDamaged = new LongAdder();
    final LongAdder kernelsDeclaredDead = new LongAdder();
    /** Futexes whose dead holders' owner_died the pager recorded in their words itself ({@link DeathRecorder}). */
    final LongAdder deathsRecordedByPager = new LongAdder();
    /** Futex releases that named a stale unlock heir the pager took (xp-spec 8.4 stale_heir_tid). */
    final LongAdder staleHeirReleases = new LongAdder();
    /** Sessions ended because an awaited answer was overdue ({@link AnswerDeadlines}). */
    final LongAdder answersOverdue = new LongAdder();
    /**
     * Entries {@link AnswerDeadlines} looked at to find the oldest answer a kernel owes: a few per
     * check, whatever the kernel holds ({@link OwedAnswers}); a test's measure of the work.
     */
    final LongAdder owedExamined = new LongAdder();
    /**
     * Entries the core looked at in indexes and walks a kernel's message set off, over state that
     * grows with what kernels hold: a range lock_completed's awaited pages, a terminate's pages
     * (SessionPages) and its object's futexes, parked requests and forwards ({@link FutexKeySet},
     * {@link ForwardsActive}), an ask-back's held futexes ({@link FutexParking}), the futexes with
     * deaths a forced recording looks at ({@link DeathRecorder#recordAll}); a test's measure of the work.
     */
    final LongAdder walked = new LongAdder();
    /**
     * Entries the page index looked at to drop the kernels a changed page record no longer involves
     * (SessionPages.settle), after every change to a record; a test's measure of the work.
     */
    final LongAdder settled = new LongAdder();
    /**
     * What the pager directory checks (xp-spec 2.8, {@link DirectoryViews}) looked at of other
     * kernels' stated views and sessions, at an init or a hello: assignments compared, views and
     * sessions examined; a test's measure of the work.
     */
    final LongAdder directoryExamined = new LongAdder();
    final LongAdder fenced = new LongAdder();
    final LongAdder keepalives = new LongAdder();
    final LongAdder kernelsReclaimed = new LongAdder();
    /** Reclaims taken again in place of a kernel's earlier one (xp-spec 9.4, Again): not more kernels. */
    final LongAdder reclaimsTakenAgain = new LongAdder();
    /** Sessions a kernel resumed on a new stream (see PagerResume). */
    final LongAdder sessionsResumed = new LongAdder();
    final LongAdder futexesReclaimed = new LongAdder();
    final LongAdder heldInGrace = new LongAdder();
    /** Passes of the event loop the core runs on (each a wait or poll for I/O, the I/O found, then tasks). */
    private final LongAdder loopPasses = new LongAdder();

    public PagerStats() {
        for (KernelToPager.RoutineCase c : KernelToPager.RoutineCase.values()) {
            received.put(c, new LongAdder());
        }
        for (PagerToKernel.RoutineCase c : PagerToKernel.RoutineCase.values()) {
            sent.put(c, new LongAdder());
        }
    }

    /** The latest messages, recorded while someone watches (PagerWatch). */
    private final XpTrace trace = new XpTrace();

    /**
     * Hears every XP message but the keepalives, on the core thread, as it is received and sent
     * (machxp demo --trace records them in real time); must not block.
     */
    public interface XpListener {
        /** {@code kernel}: the kernel's name (from its kernel_hello for the hello itself). */
        void received(String kernel, KernelToPager message);

        void sent(String kernel, PagerToKernel message);
    }

    private volatile XpListener listener;

    /** Sets the one listener of the XP messages (null: none). */
    public void listen(XpListener value) {
        listener = value;
    }

    void received(KernelSession s, KernelToPager m) {
        if (m.hasKernelKeepalive()) {
            keepalives.increment();
            return;
        }
        received.get(m.getRoutineCase()).increment();
        XpListener l = listener;
        if (l != null) {
            l.received(m.hasKernelHello() ? m.getKernelHello().getKernelName() : kernel(s), m);
        }
        if (trace.on()) {
            trace.received(s.id, kernel(s), id -> objectName(s, id), m);
        }
    }

    void sent(KernelSession s, PagerToKernel m) {
        if (m.hasPagerKeepalive()) {
            keepalives.increment();
            return;
        }
        sent.get(m.getRoutineCase()).increment();
        XpListener l = listener;
        if (l != null) {
            l.sent(kernel(s), m);
        }
        if (trace.on()) {
            trace.sent(s.id, kernel(s), id -> objectName(s, id), m);
        }
    }

    /** A grant of {@code key} to {@code to} that is a handoff from the kernel {@code from}. */
    void handoff(KernelSession to, io.machxp.pager.futex.FutexKey key, String from) {
        handoffs.increment();
        if (trace.on()) {
            trace.handoff(to.id, key.object(), key.offset(), from);
        }
    }

    private static String kernel(KernelSession s) {
        return s.kernelName == null ? "session " + s.id : s.kernelName;
    }

    private static String objectName(KernelSession s, int objectId) {
        io.machxp.pager.object.MemoryObject o = s.objects.get(objectId);
        return o == null ? null : o.name();
    }

    /** The latest XP messages, for watchers. */
    public XpTrace trace() {
        return trace;
    }

    public long received(KernelToPager.RoutineCase routine) {
        return received.get(routine).sum();
    }

    public long sent(PagerToKernel.RoutineCase routine) {
        return sent.get(routine).sum();
    }

    /** Every XP message received and sent so far, but the keepalives (session upkeep, see keepalives()). */
    public long messages() {
        return received.values().stream().mapToLong(LongAdder::sum).sum()
                + sent.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** One more pass of the core's event loop (called on its thread by the loop, see NettyTransport.oneLoop). */
    public void loopPass() {
        loopPasses.increment();
    }

    /** Passes of the core's event loop so far: XP messages per pass is what the OS's cost per message falls with. */
    public long loopPasses() {
        return loopPasses.sum();
    }

    /** kernel_keepalive received and pager_keepalive sent: counted here only, not as XP routines. */
    public long keepalives() {
        return keepalives.sum();
    }

    /** Kernels whose lease ran out, so that the pager declared them dead. */
    public long kernelsDeclaredDead() {
        return kernelsDeclaredDead.sum();
    }

    /**
     * Sessions the pager ended because their kernel did not answer a lock_request or a trylock's
     * relinquish within the answer deadline (each is declared dead when its lease ends).
     */
    public long answersOverdue() {
        return answersOverdue.sum();
    }

    /** What the directory checks looked at of other kernels' views and sessions ({@link #directoryExamined}). */
    public long directoryExamined() {
        return directoryExamined.sum();
    }

    /** Entries looked at in walks a message set off over what kernels hold ({@link #walked}). */
    public long walked() {
        return walked.sum();
    }

    /** Entries looked at to keep the page index exact after changes to page records ({@link #settled}). */
    public long settled() {
        return settled.sum();
    }

    /** Entries looked at to find the oldest answer a kernel owes (the work of the answer deadlines' checks). */
    public long owedExamined() {
        return owedExamined.sum();
    }

    /** Messages dropped because they came from a session the pager had declared dead. */
    public long fenced() {
        return fenced.sum();
    }

    /** Kernels that reconnected after a pager restart and reclaimed what they held. */
    public long sessionsResumed() {
        return sessionsResumed.sum();
    }

    public long kernelsReclaimed() {
        return kernelsReclaimed.sum();
    }

    /** Reclaims taken again in place of the same kernel's earlier one; its kernel counted once. */
    public long reclaimsTakenAgain() {
        return reclaimsTakenAgain.sum();
    }

    /** Futexes taken back by their kernels after a pager restart. */
    public long futexesReclaimed() {
        return futexesReclaimed.sum();
    }

    /** Messages held during a grace period after a restart, and handled when it ended. */
    public long heldInGrace() {
        return heldInGrace.sum();
    }

    public Map<String, Long> receivedByRoutine() {
        return byName(received);
    }

    public Map<String, Long> sentByRoutine() {
        return byName(sent);
    }

    /** Grants of a futex to a kernel. */
    public long grants() {
        return grants.sum();
    }

    /** Grants of a futex to a kernel other than the one that held it last. */
    public long handoffs() {
        return handoffs.sum();
    }

    /** Messages refused as protocol violations (logged, state unchanged). */
    public long refused() {
        return refused.sum();
    }

    /** lock_futex requests that waited for a futex record at the pager's bound for all kernels. */
    public long futexRequestsParked() {
        return futexRequestsParked.sum();
    }

    /** Idle cached futexes asked back with relinquish_futex(try) at that bound. */
    public long futexesAskedBack() {
        return futexesAskedBack.sum();
    }

    /** Futexes whose dead holders' owner_died the pager recorded in their words itself. */
    public long deathsRecordedByPager() {
        return deathsRecordedByPager.sum();
    }

    /** Futex releases that named a stale unlock heir the pager took (xp-spec 8.4 stale_heir_tid). */
    public long staleHeirReleases() {
        return staleHeirReleases.sum();
    }

    /** Page store reads and writes that failed (logged as errors), damage aside. */
    public long storeFailures() {
        return storeFailures.sum();
    }

    /** Requests for a damaged page of the store (the first for a page logged, then once a minute at most). */
    public long storeDamaged() {
        return storeDamaged.sum();
    }

    /** Kernels with an open session now. */
    public long kernelsConnected() {
        return sessions.sum();
    }

    private static <E extends Enum<E>> Map<String, Long> byName(EnumMap<E, LongAdder> counters) {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> {
            if (v.sum() > 0) {
                out.put(k.name().toLowerCase(Locale.ROOT), v.sum());
            }
        });
        return out;
    }
}
