package io.machxp.pager.core;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.google.protobuf.ByteString;
import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Up to four kernels played from a fuzzer's bytes against one {@link PagerCore}: sessions open and
 * close at any point, say hello (or not, or twice), initialize objects the pager serves and one it
 * does not, and send every KernelToPager routine with fuzzed fields. After every input the
 * {@link PagerInvariants} are checked.
 *
 * <h2>Overview</h2>
 * Each step takes a kernel slot and a move from the bytes:
 * <pre>
 *   open         sessionOpened, then (usually) kernel_hello and init of "a" (id 1) and "b" (id 2)
 *   close        sessionClosed, whatever the kernel holds or waits for
 *   hello, init, terminate, data_request, data_unlock, data_return, lock_completed,
 *   lock_futex, futex_released, futex_probe, a message with no routine
 *                one message with fuzzed fields
 *   answer       a well-behaved kernel: lock_completed (after a data_return of its dirty data) for
 *                the oldest lock_request with reply the pager sent it
 *   give back    a well-behaved kernel: futex_released of a futex it holds (asked to relinquish
 *                or not), with some of the pages it writes
 *   return page  a well-behaved kernel: data_return of a page it holds (evicted or kept)
 * </pre>
 * Most field choices are plausible - an object id the kernel initialized, a page-aligned offset
 * inside the object, a futex word in the first words of a page, exactly one page of data - since
 * a fuzzer that never gets past validation never reaches the state machines. The others are wild:
 * unknown ids, offsets unaligned, past the end or negative as uint64, data of the wrong size.
 * The kernel names are fixed per slot, so a reopened slot is the same kernel coming back.
 *
 * <p>Restarted (the pager started on an earlier pager's store, with a lease and a grace period of
 * one lease) two more moves come in: reclaim (a session opens with a kernel_hello carrying a
 * fuzzed reclaim of futexes, tokens, pages, access, versions and data) and tick (time passes, up to
 * half a lease, so that the grace period ends, held messages are handled and silent kernels are
 * declared dead).
 */
final class FuzzedKernels {
    static final int PAGE = 256;
    /** What the pager serves: name -> size. */
    static final Map<String, Long> SERVED = new LinkedHashMap<>();
    /** A name the pager does not serve. */
    static final String UNSERVED = "nope";
    private static final String[] KERNEL_NAMES = {"k1", "k2", "k3", "k4"};
    private static final int MAX_STEPS = 400;

    static {
        SERVED.put("a", 4L * PAGE);
        SERVED.put("b", 2L * PAGE);
    }

    private enum Move {
        OPEN, CLOSE, HELLO, INIT, TERMINATE, DATA_REQUEST, DATA_UNLOCK, DATA_RETURN, LOCK_COMPLETED,
        LOCK_FUTEX, FUTEX_RELEASED, FUTEX_HELD, PROBE, EMPTY, ANSWER, GIVE_BACK, RETURN_PAGE, KEEPALIVE, RECLAIM, TICK
    }

    /** The lease of a restarted pager, and its grace period. */
    private static final long LEASE = 1_000_000_000L;

    /** How often each move is drawn: the protocol's busy routines and the well-behaved answers most. */
    private static final Move[] MOVES = {
        Move.OPEN, Move.CLOSE, Move.HELLO, Move.INIT, Move.TERMINATE, Move.EMPTY, Move.KEEPALIVE,
        Move.DATA_REQUEST, Move.DATA_REQUEST, Move.DATA_REQUEST, Move.DATA_UNLOCK, Move.DATA_UNLOCK,
        Move.DATA_RETURN, Move.LOCK_COMPLETED, Move.PROBE,
        Move.LOCK_FUTEX, Move.LOCK_FUTEX, Move.LOCK_FUTEX, Move.LOCK_FUTEX, Move.FUTEX_RELEASED, Move.FUTEX_HELD,
        Move.ANSWER, Move.ANSWER, Move.ANSWER, Move.ANSWER, Move.GIVE_BACK, Move.GIVE_BACK, Move.GIVE_BACK,
        Move.RETURN_PAGE, Move.RETURN_PAGE,
    };

    /** A restarted pager's: reclaims and time passing too (the moves above keep their draws). */
    private static final Move[] RESTARTED_MOVES = java.util.stream.Stream.concat(Arrays.stream(MOVES),
            java.util.stream.Stream.of(Move.RECLAIM, Move.RECLAIM, Move.RECLAIM, Move.TICK, Move.TICK, Move.KEEPALIVE,
                    Move.KEEPALIVE)).toArray(Move[]::new);

    private final FuzzedDataProvider data;
    final PagerStats stats = new PagerStats();
    final PagerCore pager;
    final PagerInvariants invariants;
    /** Session id per kernel slot; 0: no session. */
    private final long[] slots = new long[KERNEL_NAMES.length];
    /** lock_requests with reply the pager sent to each slot's session, oldest first. */
    private final List<List<MemoryObjectLockRequest>> owed = new ArrayList<>();
    private long nextSession = 1;
    /** One XP message played, as the failure message shows it. */
    private record Played(long session, KernelToPager message) {
        @Override
        public String toString() {
            return "onXp(" + session + ", " + shortly(message) + ")";
        }
    }

    /** What was played, for the failure message: session events and XP messages. */
    private final List<Object> history = new ArrayList<>();

    private final Move[] moves;
    private final io.machxp.pager.ManualClock clock = new io.machxp.pager.ManualClock();

    FuzzedKernels(FuzzedDataProvider data) {
        this(data, false);
    }

    /** @param restarted a pager on an earlier pager's store: a lease, a grace period, reclaims */
    FuzzedKernels(FuzzedDataProvider data, boolean restarted) {
        this.data = data;
        this.moves = restarted ? RESTARTED_MOVES : MOVES;
        for (int i = 0; i < KERNEL_NAMES.length; i++) {
            owed.add(new ArrayList<>());
        }
        invariants = new PagerInvariants(stats);
        pager = new PagerCore("p", PAGE, new ObjectCatalog(SERVED, PAGE), new PagerEnv() {
            @Override
            public void send(long sessionId, PagerToKernel message) {
                invariants.sent(sessionId, message);
                int slot = slotOf(sessionId);
                if (slot >= 0 && message.hasMemoryObjectLockRequest() && message.getMemoryObjectLockRequest().getReply()) {
                    owed.get(slot).add(message.getMemoryObjectLockRequest());
                }
            }

            @Override
            public void endSession(long sessionId, Errno errno, String message) {
                invariants.ended(sessionId);
                int slot = slotOf(sessionId);
                if (slot >= 0) {
                    slots[slot] = 0;
                    owed.get(slot).clear();
                }
            }

            @Override
            public long nanoTime() {
                return clock.now();
            }

            @Override
            public void schedule(long delayNanos, Runnable action) {
                clock.schedule(delayNanos, action);
            }
        }, stats, restarted ? new PagerOptions(LEASE, 2).withGrace(LEASE) : PagerOptions.NO_LEASE);
        invariants.watch(pager);
    }

    /**
     * Plays the input to its end (or MAX_STEPS), checking the invariants after every step. A
     * failure, or an exception out of the core, is rethrown with the steps that led to it.
     */
    void run() {
        try {
            for (int step = 0; step < MAX_STEPS && data.remainingBytes() > 0; step++) {
                int slot = data.consumeInt(0, KERNEL_NAMES.length - 1);
                Move move = data.pickValue(moves);
                if (slots[slot] == 0 && move != Move.CLOSE && move != Move.RECLAIM && move != Move.TICK) {
                    move = Move.OPEN;
                }
                play(slot, move);
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + "\nafter these steps:\n" + transcript(), e);
        }
    }

    /** The steps played so far, one a line. */
    private String transcript() {
        StringBuilder b = new StringBuilder();
        for (Object step : history) {
            b.append("  ").append(step).append('\n');
        }
        return b.toString();
    }

    private void play(int slot, Move move) {
        switch (move) {
            case OPEN -> open(slot);
            case CLOSE -> close(slot);
            case HELLO -> xp(slot, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                    .setKernelName(kernelName(slot)).setProtocolVersion(1)));
            case INIT -> xp(slot, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                    .setObjectId(plausible() ? data.consumeInt(1, 3) : data.consumeInt())
                    .setName(objectName()).setPageSize(plausible() ? PAGE : data.consumeInt())));
            case TERMINATE -> xp(slot, KernelToPager.newBuilder().setMemoryObjectTerminate(
                    MemoryObjectTerminate.newBuilder().setObjectId(objectId(slot))));
            case DATA_REQUEST -> {
                int id = objectId(slot);
                xp(slot, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                        .setObjectId(id).setOffset(pageOffset(slot, id)).setLength(length())
                        .setDesiredAccessValue(access())));
            }
            case DATA_UNLOCK -> {
                int id = objectId(slot);
                xp(slot, KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder()
                        .setObjectId(id).setOffset(pageOffset(slot, id)).setLength(length())
                        .setDesiredAccessValue(plausible() ? VmProt.VM_PROT_WRITE_VALUE : access())));
            }
            case DATA_RETURN -> {
                int id = objectId(slot);
                boolean dirty = data.consumeBoolean();
                xp(slot, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                        .setObjectId(id).setOffset(pageOffset(slot, id)).setDirty(dirty)
                        .setData(dirty || !plausible() ? pageData() : ByteString.EMPTY)
                        .setKernelCopy(data.consumeBoolean())));
            }
            case LOCK_COMPLETED -> {
                int id = objectId(slot);
                xp(slot, KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                        .setObjectId(id).setOffset(pageOffset(slot, id)).setLength(length())));
            }
            case LOCK_FUTEX -> {
                int id = objectId(slot);
                xp(slot, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                        .setObjectId(id).setOffset(futexOffset(slot, id)).setTry(data.consumeInt(0, 3) == 0)
                        .setPriority(plausible() ? data.consumeInt(0, 99) : data.consumeInt())
                        .setUpdate(data.consumeInt(0, 3) == 0)));
            }
            case FUTEX_RELEASED -> {
                int id = objectId(slot);
                long offset = futexOffset(slot, id);
                KernelSession k = pager.session(slots[slot]);
                MemoryObject o = k == null ? null : k.objects.get(id);
                MemoryObjectFutexReleased.Builder r = MemoryObjectFutexReleased.newBuilder()
                        .setObjectId(id).setOffset(offset).setOwnerDied(data.consumeInt(0, 7) == 0)
                        .setFencingToken(o != null && plausible() ? pager.fencingToken(o.name(), offset) : data.consumeLong());
                for (int n = data.consumeInt(0, 2); n > 0; n--) {
                    r.addPages(PageData.newBuilder().setOffset(pageOffset(slot, id)).setData(pageData())
                            .setDirty(data.consumeBoolean()));
                }
                xp(slot, KernelToPager.newBuilder().setMemoryObjectFutexReleased(r));
            }
            case FUTEX_HELD -> {
                int id = objectId(slot);
                long offset = futexOffset(slot, id);
                KernelSession k = pager.session(slots[slot]);
                MemoryObject o = k == null ? null : k.objects.get(id);
                xp(slot, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                        .setObjectId(id).setOffset(offset)
                        .setFencingToken(o != null && plausible() ? pager.fencingToken(o.name(), offset) : data.consumeLong())));
            }
            case PROBE -> {
                int id = objectId(slot);
                xp(slot, KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                        .setObjectId(id).setOffset(futexOffset(slot, id)).setInitiator(data.consumeInt())
                        .setWait(data.consumeLong()).setHops(plausible() ? data.consumeInt(0, 5) : data.consumeInt())));
            }
            case EMPTY -> xp(slot, KernelToPager.newBuilder());
            case ANSWER -> answer(slot);
            case GIVE_BACK -> giveBack(slot);
            case RETURN_PAGE -> returnPage(slot);
            case KEEPALIVE -> xp(slot, KernelToPager.newBuilder().setKernelKeepalive(
                    KernelKeepalive.newBuilder().setSequence(data.consumeLong())));
            case RECLAIM -> reclaim(slot);
            case TICK -> tick(data.consumeLong(0, LEASE / 2));
        }
    }

    // ---- sessions -----------------------------------------------------------------------------

    /** A new session for the slot's kernel (its old one closed first); its id. */
    private long openSession(int slot) {
        if (slots[slot] != 0) {
            close(slot);
        }
        long id = nextSession++;
        slots[slot] = id;
        invariants.opened(id);
        history.add("sessionOpened(" + id + ")");
        pager.sessionOpened(id);
        return id;
    }

    private void open(int slot) {
        long id = openSession(slot);
        invariants.check(() -> "sessionOpened(" + id + ")");
        if (data.consumeInt(0, 7) != 0) {
            xp(slot, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                    .setKernelName(KERNEL_NAMES[slot]).setProtocolVersion(1)));
            int objects = data.consumeInt(0, 2);
            if (objects >= 1) {
                init(slot, 1, "a");
            }
            if (objects >= 2) {
                init(slot, 2, "b");
            }
        }
    }

    /** A kernel reconnects to the restarted pager with a reclaim of what it says it holds. */
    private void reclaim(int slot) {
        openSession(slot);
        Reclaim.Builder r = Reclaim.newBuilder().setKernelId(plausible() ? slot + 1 : data.consumeInt());
        for (int n = data.consumeInt(0, 2); n > 0; n--) {
            boolean a = data.consumeBoolean();
            ReclaimedObject.Builder o = ReclaimedObject.newBuilder()
                    .setObjectId(plausible() ? (a ? 1 : 2) : data.consumeInt())
                    .setName(plausible() ? (a ? "a" : "b") : objectName()).setPageSize(plausible() ? PAGE : data.consumeInt());
            long size = SERVED.get(a ? "a" : "b");
            for (int f = data.consumeInt(0, 3); f > 0; f--) {
                o.addFutexes(ReclaimedFutex.newBuilder()
                        .setOffset(plausible() ? PAGE * (long) data.consumeInt(0, (int) (size / PAGE) - 1)
                                + 4L * data.consumeInt(0, 3) : wildOffset(size))
                        .setFencingToken(plausible() ? 1L << 32 | data.consumeInt(1, 100) : data.consumeLong())
                        .setOwnerDied(data.consumeInt(0, 7) == 0));
            }
            for (int p = data.consumeInt(0, 3); p > 0; p--) {
                ReclaimedPage.Builder page = ReclaimedPage.newBuilder()
                        .setOffset(plausible() ? PAGE * (long) data.consumeInt(0, (int) (size / PAGE) - 1)
                                : wildOffset(size))
                        .setAccessValue(access()).setVersion(data.consumeLong(0, 4));
                if (data.consumeBoolean()) {
                    page.setData(pageData());
                }
                o.addPages(page);
            }
            r.addObjects(o);
        }
        xp(slot, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(kernelName(slot))
                .setProtocolVersion(1).setReclaim(r)));
    }

    /** Time passes: the pager's timers that fall due run (the grace period, leases). */
    private void tick(long nanos) {
        history.add("tick(" + nanos + ")");
        clock.advance(nanos, () -> invariants.checkState(() -> "timers at " + clock.now()));
    }

    private void init(int slot, int objectId, String name) {
        xp(slot, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(objectId).setName(name).setPageSize(PAGE)));
    }

    private void close(int slot) {
        long id = slots[slot];
        if (id == 0) {
            pager.sessionClosed(nextSession + 1000); // a session the pager never saw: nothing happens
            invariants.check(() -> "sessionClosed(unknown)");
            return;
        }
        slots[slot] = 0;
        owed.get(slot).clear();
        history.add("sessionClosed(" + id + ")");
        pager.sessionClosed(id);
        invariants.closed(id);
        invariants.check(() -> "sessionClosed(" + id + ")");
    }

    private int slotOf(long sessionId) {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == sessionId) {
                return i;
            }
        }
        return -1;
    }

    private void xp(int slot, KernelToPager.Builder m) {
        long id = slots[slot];
        if (id == 0) {
            return; // the pager ended the session (a bad hello) earlier in this move
        }
        KernelToPager message = m.build();
        history.add(new Played(id, message));
        invariants.before(message);
        pager.onXp(id, message);
        invariants.check(() -> new Played(id, message).toString());
    }

    private static String shortly(KernelToPager m) {
        String s = m.getRoutineCase() == KernelToPager.RoutineCase.ROUTINE_NOT_SET ? "(no routine)"
                : m.toString().replace('\n', ' ').replaceAll(" +", " ");
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    // ---- well-behaved kernels -----------------------------------------------------------------

    /** lock_completed for the oldest lock_request with reply, after returning dirty data if asked. */
    private void answer(int slot) {
        List<MemoryObjectLockRequest> pending = owed.get(slot);
        if (pending.isEmpty()) {
            return;
        }
        MemoryObjectLockRequest r = pending.remove(plausible() ? 0 : data.consumeInt(0, pending.size() - 1));
        KernelSession s = pager.session(slots[slot]);
        MemoryObject o = s == null ? null : s.objects.get(r.getObjectId());
        if (o != null && data.consumeBoolean()) {
            boolean writer = KERNEL_NAMES[slot].equals(pager.pageWriter(o.name(), r.getOffset()));
            boolean dirty = writer && data.consumeBoolean();
            xp(slot, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(r.getObjectId()).setOffset(r.getOffset())
                    .setData(dirty ? filledPage() : ByteString.EMPTY).setDirty(dirty)
                    .setKernelCopy(!r.getShouldFlush())));
        }
        xp(slot, KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(r.getObjectId()).setOffset(r.getOffset()).setLength(r.getLength())));
    }

    /** futex_released of a futex the kernel holds, with pages of the object it holds for writing. */
    private void giveBack(int slot) {
        KernelSession s = pager.session(slots[slot]);
        if (s == null || s.held.isEmpty()) {
            return;
        }
        FutexKey key = data.pickValue(new ArrayList<>(s.held));
        int id = s.objectIdOf(key.object());
        MemoryObjectFutexReleased.Builder r = MemoryObjectFutexReleased.newBuilder().setObjectId(id)
                .setOffset(key.offset()).setFencingToken(pager.fencingToken(key.object(), key.offset()));
        for (long page = 0; page < SERVED.get(key.object()); page += PAGE) {
            if (KERNEL_NAMES[slot].equals(pager.pageWriter(key.object(), page)) && data.consumeBoolean()) {
                r.addPages(PageData.newBuilder().setOffset(page).setData(filledPage()).setDirty(data.consumeBoolean()));
            }
        }
        xp(slot, KernelToPager.newBuilder().setMemoryObjectFutexReleased(r));
    }

    /** data_return of a page the kernel holds: dirty only from the writer; kept or dropped. */
    private void returnPage(int slot) {
        KernelSession s = pager.session(slots[slot]);
        if (s == null || s.objects.isEmpty()) {
            return;
        }
        int id = data.pickValue(new ArrayList<>(s.objects.keySet()));
        MemoryObject o = s.objects.get(id);
        long page = PAGE * (long) data.consumeInt(0, (int) (o.size() / PAGE) - 1);
        boolean writer = KERNEL_NAMES[slot].equals(pager.pageWriter(o.name(), page));
        if (!writer && !pager.pageReaders(o.name(), page).contains(KERNEL_NAMES[slot])) {
            return;
        }
        boolean dirty = writer && data.consumeBoolean();
        xp(slot, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(id).setOffset(page).setData(dirty ? filledPage() : ByteString.EMPTY).setDirty(dirty)
                .setKernelCopy(data.consumeBoolean())));
    }

    // ---- fields -------------------------------------------------------------------------------

    /** Seven times in eight: the field is drawn to get past validation. */
    private boolean plausible() {
        return data.consumeInt(0, 7) != 0;
    }

    private String kernelName(int slot) {
        return switch (data.consumeInt(0, 7)) {
            case 0 -> data.pickValue(KERNEL_NAMES); // perhaps another live kernel's name
            case 1 -> data.consumeAsciiString(70);   // perhaps empty, too long or with spaces
            default -> KERNEL_NAMES[slot];
        };
    }

    private String objectName() {
        return switch (data.consumeInt(0, 7)) {
            case 0 -> UNSERVED;
            case 1 -> data.consumeAsciiString(8);
            case 2, 3, 4 -> "b";
            default -> "a";
        };
    }

    /** An id the kernel initialized (if any), or any id. */
    private int objectId(int slot) {
        KernelSession s = pager.session(slots[slot]);
        if (s != null && !s.objects.isEmpty() && plausible()) {
            return data.pickValue(new ArrayList<>(s.objects.keySet()));
        }
        return data.consumeBoolean() ? data.consumeInt(0, 4) : data.consumeInt();
    }

    /** The size of the object the kernel calls {@code objectId}, or that of "a". */
    private long sizeOf(int slot, int objectId) {
        KernelSession s = pager.session(slots[slot]);
        MemoryObject o = s == null ? null : s.objects.get(objectId);
        return o == null ? SERVED.get("a") : o.size();
    }

    private long pageOffset(int slot, int objectId) {
        long size = sizeOf(slot, objectId);
        return plausible() ? PAGE * (long) data.consumeInt(0, (int) (size / PAGE) - 1) : wildOffset(size);
    }

    /** Mostly one of the first four words of a page, so that kernels meet on the same futexes. */
    private long futexOffset(int slot, int objectId) {
        long size = sizeOf(slot, objectId);
        return plausible() ? PAGE * (long) data.consumeInt(0, (int) (size / PAGE) - 1) + 4L * data.consumeInt(0, 3)
                : wildOffset(size);
    }

    private long wildOffset(long size) {
        return switch (data.consumeInt(0, 6)) {
            case 0 -> size;                                   // just past the end
            case 1 -> size - 2;                               // unaligned, inside
            case 2 -> -PAGE;                                  // page-aligned, negative as a long
            case 3 -> data.consumeLong() & -PAGE;             // page-aligned, anywhere
            case 4 -> PAGE * (long) data.consumeInt(0, 3) + data.consumeInt(1, 3); // unaligned word
            case 5 -> data.consumeLong(0, size - 1);          // anywhere inside
            default -> data.consumeLong();
        };
    }

    private long length() {
        if (plausible()) {
            return PAGE;
        }
        return switch (data.consumeInt(0, 4)) {
            case 0 -> 0;
            case 1 -> 2L * PAGE;
            case 2 -> PAGE - 1;
            case 3 -> -PAGE;
            default -> data.consumeLong();
        };
    }

    private int access() {
        return plausible() ? data.pickValue(new int[] {VmProt.VM_PROT_READ_VALUE, VmProt.VM_PROT_READ_WRITE_VALUE,
                VmProt.VM_PROT_WRITE_VALUE, VmProt.VM_PROT_NONE_VALUE}) : data.consumeInt();
    }

    /** Exactly one page, mostly: else empty, short, long. */
    private ByteString pageData() {
        if (plausible()) {
            return filledPage();
        }
        return ByteString.copyFrom(data.consumeBytes(data.consumeInt(0, 2 * PAGE)));
    }

    private ByteString filledPage() {
        byte[] page = new byte[PAGE];
        Arrays.fill(page, data.consumeByte());
        return ByteString.copyFrom(page);
    }
}
