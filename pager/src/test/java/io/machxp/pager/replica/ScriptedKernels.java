package io.machxp.pager.replica;

import com.google.protobuf.ByteString;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionClosed;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.replica.Tick;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Resume;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Four kernels played from a seeded {@link Random} as entries of a replicated pager's log, reacting
 * to what the pager sends them ({@link #observe}), for tests that compare replica cores fed the
 * same log. Each {@link #step} is one kernel's move:
 * <pre>
 *  open      session_opened, kernel_hello (resumable), init of "obj" as id 7
 *  lock      lock_futex of one of three futexes, with a priority, sometimes a trylock or an update
 *  release   futex_released of a futex it holds, with page 0 dirty if it writes it
 *  request   data_request of a page, read or write
 *  return    data_return of a page it holds (dirty if writable), keeping a copy or not
 *  answer    lock_completed for the oldest lock_request with reply (after returning dirty data)
 *  keepalive kernel_keepalive saying how many messages it received
 *  resume    its session on a new stream (kernel_hello with resume)
 *  close     its stream ends
 *  tick      time passes, up to 0.7 of a lease: silent kernels are declared dead
 * </pre>
 * Every entry advances the group clock by a millisecond.
 */
final class ScriptedKernels {
    static final int PAGE = 4096;
    static final long LEASE = 1_000_000_000L;
    static final Map<String, Long> OBJECTS = Map.of("obj", 4L * PAGE);
    private static final int OBJECT_ID = 7;
    private static final long[] FUTEXES = {0, 8, PAGE};

    /** What one kernel knows of its session. */
    private static final class Kernel {
        final String name;
        long session;
        int kernelId;
        long token;
        long received;
        long attempt;
        final Map<Long, Long> held = new LinkedHashMap<>();
        final List<Long> waiting = new ArrayList<>();
        /** Pages it holds: offset -> writable. */
        final Map<Long, Boolean> pages = new LinkedHashMap<>();
        final List<MemoryObjectLockRequest> owed = new ArrayList<>();

        Kernel(String name) {
            this.name = name;
        }

        void reset() {
            session = 0;
            held.clear();
            waiting.clear();
            pages.clear();
            owed.clear();
        }
    }

    private final Random random;
    private final Kernel[] kernels = {new Kernel("k1"), new Kernel("k2"), new Kernel("k3"), new Kernel("k4")};
    private long clock;
    private long sessions;

    ScriptedKernels(long seed, long startNanos) {
        this.random = new Random(seed);
        this.clock = startNanos;
    }

    PagerLogEntry genesis(long graceNanos) {
        return entry().setGenesis(Genesis.newBuilder().setTokenEpoch(5).setGraceNanos(graceNanos)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build();
    }

    /** One kernel's next move, as the entries the leader would append for it. */
    List<PagerLogEntry> step() {
        Kernel k = kernels[random.nextInt(kernels.length)];
        List<PagerLogEntry> out = new ArrayList<>();
        if (k.session == 0) {
            if (random.nextInt(3) != 0) {
                return out; // a kernel whose stream ended takes a while to come back
            }
            k.reset();
            k.session = newSession(out);
            out.add(xp(k, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(k.name)
                    .setProtocolVersion(1).setResumable(true))));
            out.add(xp(k, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                    .setObjectId(OBJECT_ID).setName("obj").setPageSize(PAGE))));
            return out;
        }
        int move = random.nextInt(100);
        if (move < 25) {
            lock(k, out);
        } else if (move < 40) {
            release(k, out);
        } else if (move < 52) {
            long page = PAGE * (long) random.nextInt(4);
            out.add(xp(k, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(OBJECT_ID).setOffset(page).setLength(PAGE).setDesiredAccess(random.nextBoolean()
                            ? VmProt.VM_PROT_READ : VmProt.VM_PROT_NONE))));
        } else if (move < 60 && !k.pages.isEmpty()) {
            long page = k.pages.keySet().iterator().next();
            boolean keep = random.nextBoolean();
            out.add(giveBack(k, page, keep));
            if (!keep) {
                k.pages.remove(page);
            }
        } else if (move < 75 && !k.owed.isEmpty()) {
            answer(k, out);
        } else if (move < 85) {
            out.add(xp(k, KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder()
                    .setSequence(random.nextInt(1000)).setReceived(k.received))));
        } else if (move < 90 && k.token != 0) {
            resume(k, out);
        } else if (move < 93) {
            out.add(entry().setSessionClosed(SessionClosed.newBuilder().setSessionId(k.session)).build());
            k.session = 0;
        } else {
            clock += (long) (random.nextDouble() * 0.7 * LEASE);
            out.add(entry().setTick(Tick.getDefaultInstance()).build());
        }
        return out;
    }

    private void lock(Kernel k, List<PagerLogEntry> out) {
        long offset = FUTEXES[random.nextInt(FUTEXES.length)];
        boolean update = k.waiting.contains(offset);
        if (k.held.containsKey(offset)) {
            return;
        }
        boolean tryLock = !update && random.nextInt(5) == 0;
        if (!update) {
            k.waiting.add(offset);
        }
        out.add(xp(k, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setPriority(random.nextInt(4)).setUpdate(update)
                .setTry(tryLock))));
    }

    private void release(Kernel k, List<PagerLogEntry> out) {
        if (k.held.isEmpty()) {
            return;
        }
        long offset = k.held.keySet().iterator().next();
        long token = k.held.remove(offset);
        MemoryObjectFutexReleased.Builder r = MemoryObjectFutexReleased.newBuilder().setObjectId(OBJECT_ID)
                .setOffset(offset).setFencingToken(token).setRequestAgain(random.nextInt(4) == 0);
        if (r.getRequestAgain()) {
            k.waiting.add(offset);
        }
        if (Boolean.TRUE.equals(k.pages.get(0L))) {
            r.addPages(PageData.newBuilder().setOffset(0).setDirty(true).setData(data()));
            k.pages.remove(0L);
        }
        out.add(xp(k, KernelToPager.newBuilder().setMemoryObjectFutexReleased(r)));
    }

    private void answer(Kernel k, List<PagerLogEntry> out) {
        MemoryObjectLockRequest q = k.owed.remove(0);
        for (long page = q.getOffset(); page < q.getOffset() + q.getLength(); page += PAGE) {
            Boolean writable = k.pages.get(page);
            if (writable != null && writable) {
                out.add(giveBack(k, page, !q.getShouldFlush()));
            }
            if (q.getShouldFlush()) {
                k.pages.remove(page);
            } else if (writable != null) {
                k.pages.put(page, false);
            }
        }
        out.add(xp(k, KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(q.getOffset()).setLength(q.getLength()))));
    }

    private void resume(Kernel k, List<PagerLogEntry> out) {
        k.session = newSession(out);
        k.owed.clear(); // the pager sends again what the kernel had not received
        out.add(xp(k, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(k.name)
                .setProtocolVersion(1).setResumable(true).setResume(Resume.newBuilder().setKernelId(k.kernelId)
                        .setSessionToken(k.token).setReceived(k.received).setAttempt(++k.attempt)))));
    }

    private PagerLogEntry giveBack(Kernel k, long page, boolean keep) {
        boolean dirty = Boolean.TRUE.equals(k.pages.get(page));
        MemoryObjectDataReturn.Builder r = MemoryObjectDataReturn.newBuilder().setObjectId(OBJECT_ID).setOffset(page)
                .setDirty(dirty).setKernelCopy(keep);
        if (dirty) {
            r.setData(data());
        }
        return xp(k, KernelToPager.newBuilder().setMemoryObjectDataReturn(r));
    }

    private ByteString data() {
        byte[] page = new byte[PAGE];
        random.nextBytes(page);
        return ByteString.copyFrom(page);
    }

    /** What the pager sent on a session: the kernel of that session learns it. */
    void observe(long session, PagerToKernel m) {
        for (Kernel k : kernels) {
            if (k.session != session) {
                continue;
            }
            if (m.hasPagerWelcome()) {
                k.kernelId = m.getPagerWelcome().getKernelId();
                k.token = m.getPagerWelcome().getSessionToken();
                return;
            }
            k.received++;
            if (m.hasMemoryObjectFutexGranted()) {
                k.waiting.remove(m.getMemoryObjectFutexGranted().getOffset());
                k.held.put(m.getMemoryObjectFutexGranted().getOffset(), m.getMemoryObjectFutexGranted().getFencingToken());
                m.getMemoryObjectFutexGranted().getPagesList().forEach(p -> k.pages.put(p.getOffset(), true));
            } else if (m.hasMemoryObjectFutexBusy()) {
                k.waiting.remove(m.getMemoryObjectFutexBusy().getOffset());
            } else if (m.hasMemoryObjectDataSupply()) {
                k.pages.put(m.getMemoryObjectDataSupply().getOffset(),
                        m.getMemoryObjectDataSupply().getLockValue() == VmProt.VM_PROT_NONE);
            } else if (m.hasMemoryObjectDataUnavailable()) {
                k.pages.put(m.getMemoryObjectDataUnavailable().getOffset(), true);
            } else if (m.hasMemoryObjectLockRequest()) {
                if (m.getMemoryObjectLockRequest().getReply()) {
                    k.owed.add(m.getMemoryObjectLockRequest());
                }
            }
        }
    }

    /** A session's stream was ended by the pager: its kernel opens a new one later. */
    void ended(long session) {
        for (Kernel k : kernels) {
            if (k.session == session) {
                k.session = 0;
                k.token = 0;
            }
        }
    }

    private long newSession(List<PagerLogEntry> out) {
        long id = 1L << 32 | ++sessions;
        out.add(entry().setSessionOpened(SessionOpened.newBuilder().setSessionId(id)).build());
        return id;
    }

    private PagerLogEntry xp(Kernel k, KernelToPager.Builder m) {
        return entry().setKernelMessage(KernelMessage.newBuilder().setSessionId(k.session).setMessage(m)).build();
    }

    private PagerLogEntry.Builder entry() {
        clock += 1_000_000;
        return PagerLogEntry.newBuilder().setClockNanos(clock);
    }
}
