package io.machxp.pager.core;

import static io.machxp.pager.core.FuzzedKernels.PAGE;
import static io.machxp.pager.core.FuzzedKernels.SERVED;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * What must hold of a {@link PagerCore} after every input, whatever the kernels send; checked
 * after each step by {@link FuzzedKernels}. A broken one throws {@link AssertionError} naming the
 * step.
 *
 * <ul>
 *   <li>Futexes: no futex has two holders; a free futex has nobody queued; a session never both
 *       holds and waits for one futex; the pager's records and each session's agree; nobody holds or
 *       waits for a futex of an object it terminated, and no closed session is left in a queue.
 *   <li>Pages: one writer or readers, never both; every holder is an open session that has the
 *       object initialized.
 *   <li>Messages: only to open sessions, pager_welcome first and once; futex_granted goes to a
 *       session that then holds the futex (and writes the pages it carries); relinquish and probes
 *       to the holder; busy to a kernel that neither holds nor waits; a page supplied writable (or
 *       unlocked) is the kernel's to write, one supplied read-only or asked back is one it holds.
 *   <li>Refusals: a refused message changes nothing and is answered with nothing (except a
 *       futex_released, whose pages are taken even when the release itself is refused, and a
 *       reclaim, whose futexes and pages are taken or refused one by one).
 * </ul>
 */
final class PagerInvariants {
    private record Sent(long session, PagerToKernel message) {}

    private final PagerStats stats;
    private PagerCore pager;
    /** Sessions opened and neither closed nor ended. */
    private final Set<Long> open = new TreeSet<>();
    /** Every session opened. */
    private final Set<Long> seen = new TreeSet<>();
    private final Set<Long> welcomed = new HashSet<>();
    private final List<Sent> sent = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    /** Every offset a lock_futex named: the pager keeps a record only for those. */
    private final Set<Long> futexOffsets = new TreeSet<>();
    private long refusedBefore;
    private List<Object> stateBefore;
    private KernelToPager message;

    PagerInvariants(PagerStats stats) {
        this.stats = stats;
    }

    void watch(PagerCore pager) {
        this.pager = pager;
    }

    void opened(long session) {
        open.add(session);
        seen.add(session);
    }

    void closed(long session) {
        open.remove(session);
    }

    /** The pager ended a session itself (a bad or duplicate kernel name). */
    void ended(long session) {
        if (!open.remove(session)) {
            violations.add("ended session " + session + ", which is not open");
        }
    }

    void sent(long session, PagerToKernel m) {
        if (!open.contains(session)) {
            throw new AssertionError("the pager sent " + m.getRoutineCase() + " to session " + session
                    + ", which is closed or was never opened");
        }
        if (m.hasPagerWelcome() != !welcomed.contains(session)) {
            throw new AssertionError("the pager sent " + m.getRoutineCase() + " to session " + session
                    + (m.hasPagerWelcome() ? ", which it had welcomed already" : " before pager_welcome"));
        }
        welcomed.add(session);
        sent.add(new Sent(session, m));
    }

    /** Before an XP message: what the pager's state looks like, to compare with if it is refused. */
    void before(KernelToPager m) {
        message = m;
        if (m.hasMemoryObjectLockFutex()) {
            futexOffsets.add(m.getMemoryObjectLockFutex().getOffset());
        }
        if (m.hasKernelHello() && m.getKernelHello().hasReclaim()) { // reclaimed futexes get records too
            m.getKernelHello().getReclaim().getObjectsList().forEach(o -> o.getFutexesList()
                    .forEach(f -> futexOffsets.add(f.getOffset())));
        }
        refusedBefore = stats.refused();
        stateBefore = state();
    }

    /** After every step; {@code step} says what it was, for the failure message. */
    void check(Supplier<String> step) {
        check(step, false);
    }

    /**
     * After timers ran: the end of a grace period handles every held message at once, so what was
     * sent is judged by the state after all of them; only the state itself is checked then.
     */
    void checkState(Supplier<String> step) {
        check(step, true);
    }

    private void check(Supplier<String> step, boolean batch) {
        // A reclaim is taken futex by futex and page by page: refusing one part keeps the others.
        boolean piecewise = message != null && (message.hasMemoryObjectFutexReleased()
                || message.hasKernelHello() && message.getKernelHello().hasReclaim());
        if (message != null && stats.refused() > refusedBefore && !piecewise) {
            if (!sent.isEmpty()) {
                violations.add("a refused message was answered with " + sent.get(0).message().getRoutineCase());
            }
            List<Object> after = state();
            if (!after.equals(stateBefore)) {
                violations.add("a refused message changed the pager's state from\n  " + stateBefore + "\nto\n  " + after);
            }
        }
        if (!batch) {
            checkSent();
        }
        checkFutexes();
        checkPages();
        message = null;
        sent.clear();
        if (!violations.isEmpty()) {
            String all = String.join("\n", violations);
            violations.clear();
            throw new AssertionError("after " + step.get() + ":\n" + all);
        }
    }

    // ---- messages -----------------------------------------------------------------------------

    private void checkSent() {
        for (Sent s : sent) {
            KernelSession k = pager.session(s.session());
            if (k == null) {
                continue; // closed later in the same step (by the pager: a duplicate name)
            }
            PagerToKernel m = s.message();
            switch (m.getRoutineCase()) {
                case MEMORY_OBJECT_FUTEX_GRANTED -> {
                    var g = m.getMemoryObjectFutexGranted();
                    String object = objectOf(k, g.getObjectId(), m);
                    if (object != null) {
                        if (!k.kernelName.equals(pager.holderOf(object, g.getOffset()))) {
                            violations.add("futex_granted to " + k + " for " + object + "+0x" + Long.toHexString(g.getOffset())
                                    + ", which " + pager.holderOf(object, g.getOffset()) + " holds");
                        }
                        for (PageData p : g.getPagesList()) {
                            if (!k.kernelName.equals(pager.pageWriter(object, p.getOffset()))) {
                                violations.add("futex_granted to " + k + " carried page 0x" + Long.toHexString(p.getOffset())
                                        + " of " + object + ", whose writer is " + pager.pageWriter(object, p.getOffset()));
                            }
                            if (p.getData().size() != PAGE) {
                                violations.add("futex_granted carried " + p.getData().size() + " bytes for a page");
                            }
                        }
                    }
                }
                case MEMORY_OBJECT_RELINQUISH_FUTEX -> {
                    var r = m.getMemoryObjectRelinquishFutex();
                    mustHold(k, objectOf(k, r.getObjectId(), m), r.getOffset(), "relinquish_futex");
                }
                case MEMORY_OBJECT_FUTEX_PROBE -> {
                    var p = m.getMemoryObjectFutexProbe();
                    mustHold(k, objectOf(k, p.getObjectId(), m), p.getOffset(), "futex_probe");
                }
                case MEMORY_OBJECT_FUTEX_BUSY -> {
                    var b = m.getMemoryObjectFutexBusy();
                    String object = objectOf(k, b.getObjectId(), m);
                    FutexRecord f = object == null ? null : pager.futex(object, b.getOffset());
                    if (f != null && (f.holder == k || f.queue.contains(k))) {
                        violations.add("futex_busy to " + k + ", which holds or waits for that futex");
                    }
                }
                case MEMORY_OBJECT_DATA_SUPPLY -> {
                    var d = m.getMemoryObjectDataSupply();
                    if (d.getData().size() != PAGE) {
                        violations.add("data_supply of " + d.getData().size() + " bytes");
                    }
                    supplied(k, d.getObjectId(), d.getOffset(), d.getLockValue(), m);
                }
                case MEMORY_OBJECT_DATA_UNAVAILABLE -> {
                    var d = m.getMemoryObjectDataUnavailable();
                    supplied(k, d.getObjectId(), d.getOffset(), d.getLockValue(), m);
                }
                case MEMORY_OBJECT_LOCK_REQUEST -> {
                    MemoryObjectLockRequest r = m.getMemoryObjectLockRequest();
                    String object = objectOf(k, r.getObjectId(), m);
                    if (object != null) {
                        boolean allowWrite = r.getShouldReturn() == ReturnPolicy.RETURN_NONE && !r.getShouldFlush()
                                && r.getLockValue() == VmProt.VM_PROT_NONE && !r.getReply();
                        // A page refused in a reclaim: the kernel says it holds it, the pager does not.
                        boolean discard = r.getShouldReturn() == ReturnPolicy.RETURN_NONE && r.getShouldFlush()
                                && !r.getReply() && message != null && message.hasKernelHello();
                        if (discard ? holds(k, object, r.getOffset())
                                : allowWrite ? !isWriter(k, object, r.getOffset()) : !holds(k, object, r.getOffset())) {
                            violations.add("lock_request " + r.toString().replace('\n', ' ') + " to " + k
                                    + (discard ? ", which the pager still counts as a holder of the page it drops"
                                    : ", which is not the page's " + (allowWrite ? "writer" : "holder")));
                        }
                    }
                }
                case MEMORY_OBJECT_READY -> {
                    if (!k.objects.containsKey(m.getMemoryObjectReady().getObjectId())) {
                        violations.add("memory_object_ready for an id " + k + " does not have");
                    }
                }
                default -> { }
            }
        }
    }

    /** The name of the object the kernel knows as {@code objectId}; a violation if it has none. */
    private String objectOf(KernelSession k, int objectId, PagerToKernel m) {
        MemoryObject o = k.objects.get(objectId);
        if (o == null) {
            violations.add(m.getRoutineCase() + " to " + k + " names object id " + objectId + ", which it has not initialized");
            return null;
        }
        return o.name();
    }

    private void mustHold(KernelSession k, String object, long offset, String routine) {
        if (object != null && !k.kernelName.equals(pager.holderOf(object, offset))) {
            violations.add(routine + " to " + k + " for " + object + "+0x" + Long.toHexString(offset)
                    + ", which " + pager.holderOf(object, offset) + " holds");
        }
    }

    /** data_supply / data_unavailable: lock NONE makes the kernel the writer, WRITE a holder. */
    private void supplied(KernelSession k, int objectId, long offset, VmProt lockValue, PagerToKernel m) {
        String object = objectOf(k, objectId, m);
        if (object != null && (lockValue == VmProt.VM_PROT_NONE ? !isWriter(k, object, offset) : !holds(k, object, offset))) {
            violations.add("page 0x" + Long.toHexString(offset) + " of " + object + " supplied to " + k + " with lock "
                    + lockValue + ", but its writer is " + pager.pageWriter(object, offset) + " and its readers "
                    + pager.pageReaders(object, offset));
        }
    }

    private boolean isWriter(KernelSession k, String object, long offset) {
        return k.kernelName.equals(pager.pageWriter(object, offset));
    }

    private boolean holds(KernelSession k, String object, long offset) {
        return isWriter(k, object, offset) || pager.pageReaders(object, offset).contains(k.kernelName);
    }

    // ---- futexes ------------------------------------------------------------------------------

    private void checkFutexes() {
        List<KernelSession> sessions = openSessions();
        for (KernelSession s : sessions) {
            for (FutexKey key : s.held) {
                FutexRecord f = pager.futex(key.object(), key.offset());
                if (f == null || f.holder != s) {
                    violations.add(s + " thinks it holds " + key + ", whose holder is " + (f == null ? null : f.holder));
                }
                if (s.queued.contains(key)) {
                    violations.add(s + " both holds and waits for " + key);
                }
                if (!initialized(s, key.object())) {
                    violations.add(s + " holds " + key + " of an object it terminated");
                }
            }
            for (FutexKey key : s.queued) {
                FutexRecord f = pager.futex(key.object(), key.offset());
                if (f == null || !(f.queue.contains(s) || f.tries.contains(s)) || f.holder == null || f.holder == s) {
                    violations.add(s + " thinks it waits for " + key + ", held by " + (f == null ? null : f.holder));
                }
                if (!initialized(s, key.object())) {
                    violations.add(s + " waits for " + key + " of an object it terminated");
                }
            }
        }
        for (String object : SERVED.keySet()) {
            for (long offset : futexOffsets) {
                FutexRecord f = pager.futex(object, offset);
                if (f == null) {
                    continue;
                }
                if (f.holder == null) {
                    if (!f.queue.isEmpty() || !f.tries.isEmpty()) {
                        violations.add(f.key + " is free with " + f.queue.size() + " kernels queued and "
                                + f.tries.size() + " trying");
                    }
                    continue;
                }
                if (!f.tries.isEmpty() && !f.tryAsked) {
                    violations.add(f.key + " has " + f.tries.size() + " kernels trying, but its holder was not asked");
                }
                if (f.tries.contains(f.holder) || f.tries.stream().anyMatch(f.queue::contains)) {
                    violations.add(f.key + " has its holder, or a queued kernel, among those trying");
                }
                if (pager.session(f.holder.id) != f.holder) {
                    violations.add(f.key + " is held by " + f.holder + ", whose session is closed");
                }
                if (!f.holder.held.contains(f.key)) {
                    violations.add(f.key + " is held by " + f.holder + ", which does not know it");
                }
                if (f.queue.contains(f.holder)) {
                    violations.add(f.key + " has its holder " + f.holder + " in its queue");
                }
                int queuedHere = 0;
                for (KernelSession s : sessions) {
                    queuedHere += f.queue.contains(s) ? 1 : 0;
                }
                if (queuedHere != f.queue.size()) {
                    violations.add(f.key + " has " + f.queue.size() + " kernels queued, of which only " + queuedHere
                            + " are open sessions");
                }
            }
        }
    }

    // ---- pages --------------------------------------------------------------------------------

    private void checkPages() {
        List<KernelSession> sessions = openSessions();
        for (Map.Entry<String, Long> o : SERVED.entrySet()) {
            for (long page = 0; page < o.getValue(); page += PAGE) {
                String writer = pager.pageWriter(o.getKey(), page);
                List<String> readers = pager.pageReaders(o.getKey(), page);
                String where = "page 0x" + Long.toHexString(page) + " of " + o.getKey();
                if (writer != null && !readers.isEmpty()) {
                    violations.add(where + " has writer " + writer + " and readers " + readers);
                }
                if (new HashSet<>(readers).size() != readers.size()) {
                    violations.add(where + " lists a reader twice: " + readers);
                }
                List<String> holders = new ArrayList<>(readers);
                if (writer != null) {
                    holders.add(writer);
                }
                for (String h : holders) {
                    boolean ok = false;
                    for (KernelSession s : sessions) {
                        ok |= h.equals(s.kernelName) && initialized(s, o.getKey());
                    }
                    if (!ok) {
                        violations.add(where + " is held by " + h + ", which is gone or terminated the object");
                    }
                }
            }
        }
    }

    // ---- state --------------------------------------------------------------------------------

    private static boolean initialized(KernelSession s, String object) {
        for (MemoryObject o : s.objects.values()) {
            if (o.name().equals(object)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The sessions whose kernels may hold something: open ones, and with a lease those whose stream
     * closed while they held something (broken: what they hold stays theirs until the lease ends).
     */
    private List<KernelSession> openSessions() {
        List<KernelSession> out = new ArrayList<>();
        for (long id : seen) {
            KernelSession s = pager.session(id);
            if (s != null && (open.contains(id) || s.broken)) {
                out.add(s);
            }
        }
        return out;
    }

    /** A futex record as a refused message must leave it. */
    private record FutexState(FutexKey key, KernelSession holder, int queued, int top, boolean asked, int askedWith,
            List<Long> pages) {}

    /** A page as a refused message must leave it. */
    private record PageState(String object, long page, String writer, List<String> readers) {}

    /** A session as a refused message must leave it. */
    private record SessionState(long id, String name, int kernelId, Map<Integer, MemoryObject> objects, List<FutexKey> held,
            List<FutexKey> queued) {}

    /** Everything a refused message must leave as it was. */
    private List<Object> state() {
        List<Object> out = new ArrayList<>();
        for (KernelSession s : openSessions()) {
            out.add(new SessionState(s.id, s.kernelName, s.kernelId, new HashMap<>(s.objects), new ArrayList<>(s.held),
                    new ArrayList<>(s.queued)));
        }
        for (Map.Entry<String, Long> o : SERVED.entrySet()) {
            for (long offset : futexOffsets) {
                FutexRecord f = pager.futex(o.getKey(), offset);
                if (f != null && (f.holder != null || !f.releasedPages.isEmpty())) {
                    out.add(new FutexState(f.key, f.holder, f.queue.size(), f.queue.topPriority(), f.relinquishSent,
                            f.relinquishPriority, new ArrayList<>(f.releasedPages)));
                }
            }
            for (long page = 0; page < o.getValue(); page += PAGE) {
                out.add(new PageState(o.getKey(), page, pager.pageWriter(o.getKey(), page),
                        pager.pageReaders(o.getKey(), page)));
            }
        }
        return out;
    }
}
