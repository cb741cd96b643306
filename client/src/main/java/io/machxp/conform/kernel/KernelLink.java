package io.machxp.conform.kernel;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.machxp.conform.Violation;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PagerKeepalive;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One XP stream of the kernel under test, as the kit's pager sees it.
 *
 * <h2>Overview</h2>
 * <pre>
 *  kernel_hello        recorded; welcomed by the pager (or refused, when a case asked for it)
 *  kernel_keepalive    answered with pager_keepalive of its sequence, unless the case silenced
 *                      the pager (a pager that went quiet); its time is recorded
 *  memory_object_init  answered ready (an object the kit serves) or destroy (any other)
 *  data_request        for an object in auto mode: supplied, page by page, with the access asked
 *  data_unlock         for an object in auto mode: lock_request(lock NONE), write granted
 *  data_return dirty   taken into the object's copy when newer (spec 7.3)
 * </pre>
 * On a session the pager gave a token ({@link ResumableSession}) both sides' messages are
 * numbered; a stream the session left for a resume is fenced: what still comes on it is dropped.
 * Every message but keepalives also goes to the inbox, where a case awaits what it expects
 * (until its deadline) and sees what came before. Thread-safe: gRPC delivers on its threads, the
 * case reads on its own.
 */
public final class KernelLink {
    private final FakePager pager;
    private final StreamObserver<PagerToKernel> out;
    private final List<KernelToPager> inbox = new ArrayList<>();
    /** When each message in the inbox arrived (a count), to tell what came before what. */
    private final Map<KernelToPager, Long> arrival = new java.util.IdentityHashMap<>();
    private long arrivals;
    private final List<Long> keepaliveTimes = new ArrayList<>();
    private final List<Long> keepaliveSequences = new ArrayList<>();
    /** Keepalives that came while the pager was silent, unanswered: answered after a resume. */
    private final List<Long> unanswered = new ArrayList<>();
    /** The kernel's object ids on this stream. */
    private final Map<Integer, ServedObject> objects = new HashMap<>();
    private KernelToPager first;
    private KernelHello hello;
    private int kernelId;
    private boolean silent;
    /** Silences the pager right after the first kernel message that matches (see {@link #silenceAfter}). */
    private Predicate<KernelToPager> silenceTrigger;
    /** When (System.nanoTime) the pager went silent, and the session's pager messages sent then; -1: not yet. */
    private long silencedAt = -1;
    private long sentWhenSilenced = -1;
    /** When (System.nanoTime) the kernel_hello came on this stream. */
    private long helloAt;
    private Status ended;
    /** The resumable session on this stream, or null (no token, or the session moved on). */
    private ResumableSession session;
    /** The session moved to another stream (a resume): nothing more of this one is taken. */
    private boolean fenced;

    KernelLink(FakePager pager, StreamObserver<PagerToKernel> out) {
        this.pager = pager;
        this.out = out;
    }

    // ---- what the kernel sends -------------------------------------------------------------

    synchronized void received(KernelToPager m) {
        if (fenced) {
            return; // spec 4.7: dropped, as from a stream the session left
        }
        if (first == null) {
            first = m;
        }
        if (session != null && !m.hasKernelHello()) {
            session.fromKernel(m);
        }
        if (m.hasKernelKeepalive()) {
            keepaliveTimes.add(System.nanoTime());
            keepaliveSequences.add(m.getKernelKeepalive().getSequence());
            if (!silent) {
                send(keepaliveAnswer(m.getKernelKeepalive().getSequence()));
            } else {
                unanswered.add(m.getKernelKeepalive().getSequence());
            }
            notifyAll();
            return;
        }
        inbox.add(m);
        arrival.put(m, arrivals++);
        if (silenceTrigger != null && silenceTrigger.test(m)) {
            silenceTrigger = null;
            silent = true; // the kernel's later messages, its keepalives among them, come after this one
            silencedAt = System.nanoTime();
            sentWhenSilenced = session == null ? -1 : session.sent();
        }
        notifyAll();
        if (m.hasKernelHello() && hello == null) {
            hello = m.getKernelHello();
            helloAt = System.nanoTime();
            pager.hello(this, hello);
        } else if (m.hasMemoryObjectInit()) {
            init(m.getMemoryObjectInit());
        } else if (m.hasMemoryObjectDataRequest()) {
            ServedObject o = objects.get(m.getMemoryObjectDataRequest().getObjectId());
            if (o != null && o.auto()) {
                supply(m.getMemoryObjectDataRequest(), o);
            }
        } else if (m.hasMemoryObjectDataUnlock()) {
            var u = m.getMemoryObjectDataUnlock();
            ServedObject o = objects.get(u.getObjectId());
            if (o != null && o.auto()) {
                send(lockRequest(u.getObjectId(), u.getOffset(), u.getLength(), ReturnPolicy.RETURN_NONE, false,
                        VmProt.VM_PROT_NONE, false));
            }
        } else if (m.hasMemoryObjectDataReturn()) {
            var r = m.getMemoryObjectDataReturn();
            ServedObject o = objects.get(r.getObjectId());
            if (o != null && r.getDirty()) {
                o.takeDirty(r.getOffset(), r.getData().toByteArray(), r.getVersion());
            }
        }
    }

    private void init(MemoryObjectInit i) {
        ServedObject o = pager.served(i.getName());
        if (o == null || i.getPageSize() != pager.pageSize()) {
            send(PagerToKernel.newBuilder().setMemoryObjectDestroy(MemoryObjectDestroy.newBuilder()
                    .setObjectId(i.getObjectId()).setReason(o == null ? "the conformance kit serves no object '"
                            + i.getName() + "'" : "page size " + i.getPageSize() + " is not the session's")).build());
            return;
        }
        objects.put(i.getObjectId(), o);
        send(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                .setObjectId(i.getObjectId()).setSize(o.size()).setMayCache(true)).build());
    }

    static PagerToKernel keepaliveAnswer(long sequence) {
        return PagerToKernel.newBuilder().setPagerKeepalive(PagerKeepalive.newBuilder().setSequence(sequence)).build();
    }

    /** The keepalives that came while the pager was silent (it answers them after a resume); cleared. */
    synchronized List<Long> takeUnanswered() {
        List<Long> all = List.copyOf(unanswered);
        unanswered.clear();
        return all;
    }

    /** Names an object by the kernel's id on this stream (a reclaim names its objects). */
    synchronized void adopt(int objectId, ServedObject o) {
        objects.put(objectId, o);
    }

    /** The objects named on {@code from} (a resume moved the session here). */
    void adoptAll(KernelLink from) {
        Map<Integer, ServedObject> theirs;
        synchronized (from) {
            theirs = new HashMap<>(from.objects);
        }
        synchronized (this) {
            objects.putAll(theirs);
        }
    }

    /** The session this stream carries from now on (its messages numbered). */
    synchronized void carry(ResumableSession s) {
        session = s;
    }

    /** The session went to another stream: this one is ended with {@code error} and dropped from now on. */
    synchronized void fence(StatusRuntimeException error) {
        fenced = true;
        session = null;
        end(error);
    }

    /** The resumable session on this stream, or null. */
    public synchronized ResumableSession session() {
        return session;
    }

    private void supply(MemoryObjectDataRequest r, ServedObject o) {
        int pageSize = pager.pageSize();
        boolean write = (r.getDesiredAccess().getNumber() & VmProt.VM_PROT_WRITE_VALUE) != 0
                || r.getDesiredAccess() == VmProt.VM_PROT_NONE;
        for (long at = r.getOffset(); at < r.getOffset() + Math.max(r.getLength(), 1); at += pageSize) {
            ServedObject.Copy c = o.copy(at);
            send(supply(r.getObjectId(), at, c.data(), write ? VmProt.VM_PROT_NONE : VmProt.VM_PROT_WRITE,
                    c.version()));
        }
    }

    static PagerToKernel supply(int objectId, long offset, byte[] data, VmProt lockValue, long version) {
        return PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(objectId).setOffset(offset).setData(ByteString.copyFrom(data)).setLockValue(lockValue)
                .setVersion(version)).build();
    }

    static PagerToKernel lockRequest(int objectId, long offset, long length, ReturnPolicy ret, boolean flush,
            VmProt lockValue, boolean reply) {
        return PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(objectId).setOffset(offset).setLength(length).setShouldReturn(ret).setShouldFlush(flush)
                .setLockValue(lockValue).setReply(reply)).build();
    }

    synchronized void ended(Status status) {
        ended = status;
        notifyAll();
    }

    // ---- what the case sees and does ----------------------------------------------------------

    /** Sends a message to the kernel (nothing once the stream ended). */
    public synchronized void send(PagerToKernel m) {
        if (ended == null) {
            out.onNext(m);
            if (session != null && !m.hasPagerWelcome()) {
                session.toKernel(m);
            }
        }
    }

    /** Sends a message of the session again (a resume's replay): numbered once already. */
    synchronized void replay(PagerToKernel m) {
        if (ended == null) {
            out.onNext(m);
        }
    }

    /** Ends the stream: OK (a clean end), else with {@code status} (the pager refuses the session). */
    synchronized void end(Status status) {
        if (ended == null) {
            if (status.isOk()) {
                out.onCompleted();
            } else {
                out.onError(status.asRuntimeException());
            }
            ended = status;
        }
    }

    /** Ends the stream with an error that carries its ErrorInfo (the pager's own word, spec 3.1). */
    synchronized void end(StatusRuntimeException error) {
        if (ended == null) {
            out.onError(error);
            ended = error.getStatus();
        }
    }

    synchronized void welcomed(int id) {
        kernelId = id;
    }

    public synchronized int kernelId() {
        return kernelId;
    }

    /** The first message of the stream, or null. */
    public synchronized KernelToPager first() {
        return first;
    }

    public synchronized KernelHello hello() {
        return hello;
    }

    /** Stops (true) or resumes answering keepalives: a pager that went quiet. */
    public synchronized void silence(boolean quiet) {
        silent = quiet;
    }

    /**
     * The pager goes quiet right after the first kernel message that matches: every keepalive the
     * kernel sent before it is answered (it confirms nothing after it: the stream is FIFO), every
     * one sent after it is not. The kernel cannot see its stream stalled before it sent that
     * message, whatever the time it took to send it.
     */
    public synchronized void silenceAfter(Predicate<KernelToPager> match) {
        silenceTrigger = match;
    }

    /** When (System.nanoTime) {@link #silenceAfter} silenced the pager; -1: not yet. */
    public synchronized long silencedAt() {
        return silencedAt;
    }

    /** The session's pager messages sent when {@link #silenceAfter} silenced the pager; -1: not yet, or no session. */
    public synchronized long sentWhenSilenced() {
        return sentWhenSilenced;
    }

    /** When (System.nanoTime) the kernel_hello came on this stream; 0: none yet. */
    public synchronized long helloAt() {
        return helloAt;
    }

    /** When (System.nanoTime) each keepalive came, and its sequence. */
    public synchronized List<long[]> keepalives() {
        List<long[]> all = new ArrayList<>();
        for (int i = 0; i < keepaliveTimes.size(); i++) {
            all.add(new long[] {keepaliveSequences.get(i), keepaliveTimes.get(i)});
        }
        return all;
    }

    public synchronized boolean isEnded() {
        return ended != null;
    }

    /** Whether the session this stream carried moved to another stream (a resume taken): it was fenced. */
    public synchronized boolean movedOn() {
        return fenced;
    }

    /** Takes the first message received (and not taken) that matches, waiting until {@code deadlineNanos}. */
    public synchronized KernelToPager await(String what, Predicate<KernelToPager> match, long deadlineNanos) {
        KernelToPager m = take(what, match, () -> false, deadlineNanos);
        arrival.remove(m);
        return m;
    }

    /**
     * As {@link #await}, but null once {@code giveUp} holds and nothing matched (it is checked
     * whenever the kernel sends anything, and at least every 50 ms; under this link's monitor: it
     * must take no other).
     */
    public synchronized KernelToPager awaitUnless(String what, Predicate<KernelToPager> match,
            java.util.function.BooleanSupplier giveUp, long deadlineNanos) {
        KernelToPager m = take(what, match, giveUp, deadlineNanos);
        arrival.remove(m);
        return m;
    }

    private KernelToPager take(String what, Predicate<KernelToPager> match, java.util.function.BooleanSupplier giveUp,
            long deadlineNanos) {
        while (true) {
            for (Iterator<KernelToPager> it = inbox.iterator(); it.hasNext(); ) {
                KernelToPager m = it.next();
                if (match.test(m)) {
                    it.remove();
                    return m;
                }
            }
            if (giveUp.getAsBoolean()) {
                return null;
            }
            if (ended != null) {
                throw new Violation("expected " + what + " from the kernel, but its stream ended (" + ended.getCode()
                        + ")" + received());
            }
            waitUntil(deadlineNanos, "the kernel's " + what);
        }
    }

    /**
     * As {@link #await}, and what came before it: the messages received (and not taken) ahead of
     * the one taken, in the order they came, then that one.
     */
    public synchronized List<KernelToPager> awaitWithEarlier(String what, Predicate<KernelToPager> match,
            long deadlineNanos) {
        KernelToPager m = take(what, match, () -> false, deadlineNanos);
        List<KernelToPager> earlier = new ArrayList<>(arrivedBefore(m));
        arrival.remove(m);
        earlier.add(m);
        return earlier;
    }

    /** Waits until {@code condition} holds (it is checked whenever the kernel sends anything). */
    public synchronized void awaitCondition(String what, java.util.function.BooleanSupplier condition,
            long deadlineNanos) {
        while (!condition.getAsBoolean()) {
            waitUntil(deadlineNanos, what);
        }
    }

    /** The messages still in the inbox that arrived before {@code m} (taken: no longer in it). */
    private List<KernelToPager> arrivedBefore(KernelToPager m) {
        long at = arrival.getOrDefault(m, Long.MAX_VALUE);
        return inbox.stream().filter(x -> arrival.get(x) < at).toList();
    }

    /** The messages received and not taken, in order. */
    public synchronized List<KernelToPager> pending() {
        return List.copyOf(inbox);
    }

    private void waitUntil(long deadlineNanos, String what) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new Violation("waited in vain for " + what + received());
        }
        try {
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Violation("interrupted while waiting for " + what);
        }
    }

    private String received() {
        if (inbox.isEmpty()) {
            return " (nothing else received)";
        }
        List<String> names = new ArrayList<>();
        for (KernelToPager m : inbox.subList(Math.max(0, inbox.size() - 6), inbox.size())) {
            names.add(KernelMessages.describe(m));
        }
        return " (received instead" + (inbox.size() > 6 ? ", last of " + inbox.size() : "") + ": "
                + String.join(", ", names) + ")";
    }
}
