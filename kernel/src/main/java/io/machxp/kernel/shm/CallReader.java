package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;

import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.Futex;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's side of a session's call file ({@link CallLayout}, docs/shared-memory.md), served
 * by the kernel core's own thread: the core's event loop ({@link CallLoop}) looks at the file on
 * each of its turns, takes every posted call of the slots given out so far and hands it to the
 * task interface ({@link Dispatch}), which answers it later through its {@link TakenCall}, from
 * whatever thread the answer is ready on. Before the loop blocks in its select it says so in the
 * file; a client that posts a call then rings the bell socket ({@link CallBell}), which that
 * select watches. So a call wakes one thread, the core's, and no thread stands between the
 * doorbell and the core. Taking a call never waits for its answer: a lock that waits does so in
 * the core, as over gRPC.
 *
 * <pre>
 *   (on the core thread, each turn of its event loop)
 *   AWAKE --nothing to do: ASLEEP set, the doorbell unchanged since the last look--> ASLEEP (in select)
 *   AWAKE --ASLEEP set, but the doorbell moved--> AWAKE (the select does not block)
 *   ASLEEP --a ring on the bell socket, the pager's I/O, a task, a timer--> AWAKE
 *   AWAKE, the doorbell moved since the last look: every slot looked at
 *         slot POSTED    -> TAKEN, request copied, dispatched (its TakenCall remembered)
 *         slot CANCELLED (or a newer call) while its TakenCall is unanswered -> its cancel handler runs
 *   any --close--> CLOSED (every waiting client woken; the bell's socket closed and deleted)
 * </pre>
 */
public final class CallReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CallReader.class);

    /** Where taken calls go: the task interface. */
    @FunctionalInterface
    public interface Dispatch {
        /** Handles {@code method} with the request's bytes (null: malformed), answering through {@code call}. */
        void call(TakenCall call, int method, byte[] request);
    }

    private final Path path;
    private final ByteBuffer file;
    private final long base;
    private final int slots;
    private final IntSupplier given;
    private final CallBell bell;
    /** The loop that serves it; null: nobody does (then no call file is given out). */
    private final CallLoop loop;
    private volatile Dispatch dispatch;
    private volatile boolean closed;
    /** The calls taken and not yet answered, by slot: core thread. */
    private TakenCall[] taken;
    /** The doorbell at the last look; below any int before the first: core thread. */
    private long lastBell = Long.MIN_VALUE;

    /**
     * @param file the call file, mapped, {@code slots} slots
     * @param given how many slots the kernel has given out so far (those are scanned)
     * @param bell its bell socket, bound
     * @param loop the kernel core's event loop, which serves it
     */
    CallReader(Path path, ByteBuffer file, int slots, IntSupplier given, CallBell bell, CallLoop loop) {
        this.path = path;
        this.file = file;
        this.base = Futex.address(file);
        this.slots = slots;
        this.given = given;
        this.bell = bell;
        this.loop = loop;
        INT.set(file, CallLayout.SLOTS, slots);
        LONG.set(file, CallLayout.KERNEL_PID, ProcessHandle.current().pid());
        LONG.setVolatile(file, 0, CallLayout.MAGIC);
    }

    public Path file() {
        return path;
    }

    CallBell bell() {
        return bell;
    }

    boolean closed() {
        return closed;
    }

    /** Core thread: starts serving the file with its dispatcher, once; later calls do nothing. */
    public void serve(Dispatch d) {
        if (dispatch != null || closed) {
            return;
        }
        dispatch = d;
        taken = new TakenCall[slots];
        loop.serve(this);
    }

    /**
     * Core thread, before its loop blocks: says the core is asleep, then whether it may block -
     * false if a call was posted since the last look (then the core stays awake and looks).
     */
    boolean mayBlock() {
        INT.setVolatile(file, CallLayout.ASLEEP, 1);
        if ((int) INT.getVolatile(file, CallLayout.DOORBELL) != lastBell && !closed) {
            INT.setVolatile(file, CallLayout.ASLEEP, 0);
            return false;
        }
        return true;
    }

    /** Core thread, after its select: clients post without ringing until it is about to block again. */
    void awake() {
        INT.setVolatile(file, CallLayout.ASLEEP, 0);
    }

    /** Core thread: takes the calls posted since the last look; how many it took. */
    int poll() {
        int bell = (int) INT.getVolatile(file, CallLayout.DOORBELL);
        if (bell == lastBell || closed) {
            return 0;
        }
        lastBell = bell;
        return scan(taken);
    }

    private int scan(TakenCall[] taken) {
        int took = 0;
        int high = Math.min(given.getAsInt(), slots);
        for (int i = 0; i < high; i++) {
            int at = CallLayout.slot(i);
            int s = (int) INT.getVolatile(file, at);
            TakenCall before = taken[i];
            if (before != null && (CallLayout.call(s) != before.call || CallLayout.phase(s) == CallLayout.CANCELLED)) {
                taken[i] = null;
                before.cancelledByClient();
            }
            if (CallLayout.phase(s) == CallLayout.POSTED
                    && INT.compareAndSet(file, at, s, CallLayout.state(CallLayout.call(s), CallLayout.TAKEN))) {
                taken[i] = take(i, at, CallLayout.call(s));
                took++;
            }
        }
        return took;
    }

    /** A call just taken: its request copied, then dispatched (unless the client cancelled meanwhile). */
    private TakenCall take(int slot, int at, int call) {
        int method = (int) INT.get(file, at + CallLayout.METHOD);
        int length = (int) INT.get(file, at + CallLayout.REQUEST_LENGTH);
        byte[] request = null;
        if (length >= 0 && length <= CallLayout.PAYLOAD) {
            request = new byte[length];
            file.get(at + CallLayout.PAYLOAD_AT, request);
        }
        TakenCall c = new TakenCall(file, base, at, call);
        // The copy above is plain reads, the re-check below a volatile one, which later loads may
        // not pass but earlier ones may: without this fence the copy could be of the client's next
        // call, posted after the re-check saw this one still TAKEN (as StampedLock.validate fences)
        java.lang.invoke.VarHandle.acquireFence();
        if (c.cancelled()) {
            return null; // the client gave up while it was copied: it may be writing its next call
        }
        try {
            dispatch.call(c, method, request);
        } catch (RuntimeException e) {
            log.warn("call file {}: slot {} method {} failed in dispatch", path, slot, method, e);
        }
        return c;
    }

    /**
     * The session ended: no call is taken after this (the loop drops the file), and every client
     * waiting in a slot is woken to find CLOSED (its call fails UNAVAILABLE, and it uses gRPC from
     * then on). Any thread.
     */
    @Override
    public void close() {
        closed = true;
        INT.setVolatile(file, CallLayout.CLOSED, 1);
        bell.close();
        int high = Math.min(given.getAsInt(), slots);
        for (int i = 0; i < high; i++) {
            int phase = CallLayout.phase((int) INT.getVolatile(file, CallLayout.slot(i)));
            if (phase == CallLayout.POSTED || phase == CallLayout.TAKEN) {
                Futex.wake(base + CallLayout.slot(i), Integer.MAX_VALUE);
            }
        }
    }
}
