package io.machxp.conform;

import com.google.rpc.ErrorInfo;
import io.machxp.pager.net.XpService;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.PagerToKernel;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pager bugs an outside implementer of XP is likely to make, planted on the wire in front of
 * machxp's own pager (an {@link XpProxy} plant each): what a kernel sees is what such a pager
 * would send. Part of {@link PlantedBugs#all()}; each names the cases that catch it (docs/testing.md,
 * "The conformance kit's mutants").
 */
final class OutsidePagerBugs {
    private OutsidePagerBugs() {}

    static List<PlantedBugs.Bug> all() {
        return List.of(
                new PlantedBugs.Bug("a held futex granted to a second kernel", "^8\\.4-relinquish$", GrantWhileHeld::new),
                new PlantedBugs.Bug("a grant to a queue's head without its relinquish", "^8\\.3-grant-carries-relinquish$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectFutexGranted() ? m.toBuilder().setMemoryObjectFutexGranted(
                                m.getMemoryObjectFutexGranted().toBuilder().setRelinquish(false)
                                        .setRelinquishPriority(0)).build() : m;
                    }
                }),
                new PlantedBugs.Bug("a waiter's priority update ignored", "^8\\.6-priority-update$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectLockFutex() && m.getMemoryObjectLockFutex().getUpdate() ? null : m;
                    }
                }),
                new PlantedBugs.Bug("keepalives answered before the returns sent ahead of them are taken",
                        "^4\\.2-keepalive-after-returns$", EarlyKeepalive::new),
                new PlantedBugs.Bug("supplies at the wrong offset", "^6\\.2-read-copy$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (m.hasMemoryObjectDataSupply()) {
                            var s = m.getMemoryObjectDataSupply();
                            return m.toBuilder().setMemoryObjectDataSupply(s.toBuilder().setOffset(s.getOffset()
                                    + s.getData().size())).build();
                        }
                        return m.hasMemoryObjectDataUnavailable() ? m.toBuilder().setMemoryObjectDataUnavailable(
                                m.getMemoryObjectDataUnavailable().toBuilder().setOffset(m.getMemoryObjectDataUnavailable()
                                        .getOffset() + m.getMemoryObjectDataUnavailable().getLength())).build() : m;
                    }
                }),
                new PlantedBugs.Bug("a page's first copy supplied again after a return", "^6\\.1-read-downgrades-writer$",
                        StaleCopy::new),
                new PlantedBugs.Bug("a stale page version", "^6\\.1-read-downgrades-writer$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectDataSupply() && m.getMemoryObjectDataSupply().getVersion() > 0
                                ? m.toBuilder().setMemoryObjectDataSupply(m.getMemoryObjectDataSupply().toBuilder()
                                        .setVersion(m.getMemoryObjectDataSupply().getVersion() - 1)).build() : m;
                    }
                }),
                new PlantedBugs.Bug("waiters' priorities ignored (FIFO)", "^8\\.6-priority-order$", () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectLockFutex() ? m.toBuilder().setMemoryObjectLockFutex(
                                m.getMemoryObjectLockFutex().toBuilder().setPriority(0)).build() : m;
                    }
                }),
                new PlantedBugs.Bug("a duplicate name ended with EINVAL", "^2\\.2-duplicate-name$",
                        () -> errnoInstead("EEXIST", Errno.EINVAL)),
                new PlantedBugs.Bug("an unsupported version ended with EINVAL", "^2\\.3-version-",
                        () -> errnoInstead("EPROTONOSUPPORT", Errno.EINVAL)),
                new PlantedBugs.Bug("readers flushed without reply, the writer served at once",
                        "^6\\.1-write-flushes-readers$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (!m.hasMemoryObjectLockRequest() || !m.getMemoryObjectLockRequest().getReply()) {
                            return m;
                        }
                        var r = m.getMemoryObjectLockRequest();
                        link.toPager(KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted
                                .newBuilder().setObjectId(r.getObjectId()).setOffset(r.getOffset())
                                .setLength(r.getLength())).build());
                        return m.toBuilder().setMemoryObjectLockRequest(r.toBuilder().setReply(false)).build();
                    }
                }),
                new PlantedBugs.Bug("owner_died forgotten (grant and word) when nobody waited at the death", "^4\\.5-owner-died-kept$",
                        OwnerDiedOnlyWithWaiters::new),
                new PlantedBugs.Bug("no replay on a resume", "^4\\.7-resume-replays$", NoReplay::new),
                new PlantedBugs.Bug("a queued lock_futex dropped on a resume", "^4\\.7-resume-keeps-queue$",
                        QueueDroppedOnResume::new),
                new PlantedBugs.Bug("a resume replays from the start (received ignored)", "^4\\.7-resume-replays$",
                        () -> resumeRewritten(r -> r.toBuilder().setReceived(0).build())),
                new PlantedBugs.Bug("a resume replays from one past received", "^4\\.7-resume-replays$",
                        () -> resumeRewritten(r -> r.toBuilder().setReceived(r.getReceived() + 1).build())),
                new PlantedBugs.Bug("a resume's attempt not checked", "^4\\.7-resume-stale-attempt$", () -> {
                    java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
                    return resumeRewritten(r -> r.toBuilder().setAttempt(attempts.incrementAndGet()).build());
                }));
    }

    /**
     * Bugs a SHOULD case catches (it fails, and the run still passes): the directory dispute list
     * is a SHOULD of spec 2.8. dir2-review L5: the case passed a pager that over-lists, locking a
     * kernel out of objects nobody disputes.
     */
    static List<PlantedBugs.Bug> caughtByShould() {
        return List.of(
                new PlantedBugs.Bug("every new session's welcome lists the object in use as disputed",
                        "^2\\.8-directory-disputes-listed$", () -> disputeAdded(false), "kernel c's view sends every object here"),
                new PlantedBugs.Bug("a resume's welcome lists the disputes again", "^2\\.8-directory-disputes-listed$",
                        () -> disputeAdded(true), "the welcome answering kernel b's resume lists"));
    }

    /**
     * Bugs a SHOULD case that restarts the pager catches (run with a store and a restarter): in its
     * grace period, a reclaimed kernel's init of an object nobody reclaimed answered at once
     * (dir3-review MED-1), before the views of the kernels still to reclaim are back.
     */
    static List<PlantedBugs.Bug> caughtByShouldAfterRestart() {
        return List.of(new PlantedBugs.Bug("a reclaimed kernel's init of an object nobody reclaimed answered at once "
                + "in grace", "^9\\.3-grace-init-held$", OutsidePagerBugs::initAnsweredInGrace,
                "was answered in the target's grace period"));
    }

    /**
     * A pager that answers in grace a reclaimed kernel's init at once: a reclaim naming nothing,
     * whose view sends every object here (a single pager's), reaches the pager naming the kit's
     * object ("shared", id {@link PagerProbe#OBJECT_ID}) as reclaimed, so the pager takes the init
     * as one of an object in use and answers it at once, as a pager without the hold would.
     */
    private static XpProxy.Plant initAnsweredInGrace() {
        return new XpProxy.Plant() {
            @Override
            public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                if (!m.hasKernelHello() || !m.getKernelHello().hasReclaim()
                        || m.getKernelHello().getReclaim().getObjectsCount() > 0
                        || m.getKernelHello().getDirectory().getPagerCount() != 1) {
                    return m;
                }
                return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setReclaim(m.getKernelHello()
                        .getReclaim().toBuilder().addObjects(io.machxp.proto.xp.ReclaimedObject.newBuilder()
                                .setObjectId(PagerProbe.OBJECT_ID).setName("shared")
                                .setPageSize(io.machxp.pager.PagerConfig.DEFAULT_PAGE_SIZE)))).build();
            }
        };
    }

    /**
     * Every welcome of a new session ({@code resumed} false), or every resume's ({@code resumed}
     * true), lists the kit's object ("shared") as in dispute, whatever the kernel's view (spec 2.8).
     */
    private static XpProxy.Plant disputeAdded(boolean resumed) {
        return new XpProxy.Plant() {
            @Override
            public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                if (!m.hasPagerWelcome() || m.getPagerWelcome().getResumed() != resumed || m.getPagerWelcome()
                        .getDisputesList().stream().anyMatch(d -> d.getObject().equals("shared"))) {
                    return m;
                }
                return m.toBuilder().setPagerWelcome(m.getPagerWelcome().toBuilder().addDisputes(
                        io.machxp.proto.xp.ObjectDispute.newBuilder().setObject("shared").setReason("planted"))).build();
            }
        };
    }

    /** The pager reads each resume as {@code seen} makes it (spec 4.7). */
    private static XpProxy.Plant resumeRewritten(java.util.function.UnaryOperator<io.machxp.proto.xp.Resume> seen) {
        return new XpProxy.Plant() {
            @Override
            public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                return m.hasKernelHello() && m.getKernelHello().hasResume() ? m.toBuilder().setKernelHello(m
                        .getKernelHello().toBuilder().setResume(seen.apply(m.getKernelHello().getResume()))).build() : m;
            }
        };
    }

    /** The pager ends a stream with {@code wrong} where it should say {@code right}. */
    private static XpProxy.Plant errnoInstead(String right, Errno wrong) {
        return new XpProxy.Plant() {
            @Override
            public Throwable ended(XpProxy.Link link, Throwable t) {
                ErrorInfo info = ErrorDetails.errorInfo(t);
                return info != null && right.equals(info.getReason())
                        ? XpService.error(wrong, "the planted bug's errno for " + right) : t;
            }
        };
    }

    /** A lock_futex of a futex another kernel holds is granted at once (tokens still growing). */
    private static final class GrantWhileHeld implements XpProxy.Plant {
        private final Map<Long, XpProxy.Link> holder = new HashMap<>();
        private final Map<Long, Long> token = new HashMap<>();

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (m.hasMemoryObjectFutexGranted()) {
                var g = m.getMemoryObjectFutexGranted();
                holder.put(g.getOffset(), link);
                token.merge(g.getOffset(), g.getFencingToken(), Math::max);
            }
            return m;
        }

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasMemoryObjectFutexReleased() && holder.get(m.getMemoryObjectFutexReleased().getOffset()) == link) {
                holder.remove(m.getMemoryObjectFutexReleased().getOffset());
            }
            if (m.hasMemoryObjectLockFutex() && !m.getMemoryObjectLockFutex().getTry()) {
                var l = m.getMemoryObjectLockFutex();
                XpProxy.Link h = holder.get(l.getOffset());
                if (h != null && h != link) {
                    long t = token.merge(l.getOffset(), 1L, Long::sum);
                    link.toKernel(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted
                            .newBuilder().setObjectId(l.getObjectId()).setOffset(l.getOffset()).setFencingToken(t))
                            .build());
                }
            }
            return m;
        }
    }

    /**
     * A keepalive is answered at once, ahead of the data_returns sent before it: they are taken
     * only when the kernel's next message other than a keepalive comes (as by a pager whose store
     * writes lag and whose keepalive answers do not wait for them).
     */
    private static final class EarlyKeepalive implements XpProxy.Plant {
        private final Map<XpProxy.Link, List<KernelToPager>> held = new HashMap<>();

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            List<KernelToPager> returns = held.computeIfAbsent(link, l -> new java.util.ArrayList<>());
            if (m.hasKernelKeepalive()) {
                link.toKernel(PagerToKernel.newBuilder().setPagerKeepalive(io.machxp.proto.xp.PagerKeepalive
                        .newBuilder().setSequence(m.getKernelKeepalive().getSequence())).build());
                return m;
            }
            if (m.hasMemoryObjectDataReturn()) {
                returns.add(m);
                return null;
            }
            returns.forEach(link::toPager);
            returns.clear();
            return m;
        }

        @Override
        public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            return m.hasPagerKeepalive() ? null : m; // the pager's own answer: the kernel has had one
        }
    }

    /**
     * Every supply of a page carries the data and version of the page's first answer (zeros for a
     * data_unavailable): the pager serves a copy it read once, not what kernels returned since.
     */
    private static final class StaleCopy implements XpProxy.Plant {
        private final Map<Long, Check.Page> first = new HashMap<>();

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (m.hasMemoryObjectDataUnavailable()) {
                var u = m.getMemoryObjectDataUnavailable();
                first.putIfAbsent(u.getOffset(), new Check.Page(new byte[(int) u.getLength()], null, u.getVersion()));
                return m;
            }
            if (!m.hasMemoryObjectDataSupply()) {
                return m;
            }
            var s = m.getMemoryObjectDataSupply();
            Check.Page f = first.computeIfAbsent(s.getOffset(), o -> new Check.Page(s.getData().toByteArray(), null,
                    s.getVersion()));
            return f.data().length != s.getData().size() ? m : m.toBuilder().setMemoryObjectDataSupply(s.toBuilder()
                    .setData(com.google.protobuf.ByteString.copyFrom(f.data())).setVersion(f.version())).build();
        }
    }

    /**
     * owner_died reaches only a kernel that waited when the holder died: a futex for which no
     * relinquish went out (nobody waited while it was held) loses the death altogether, both ways a
     * pager may pass it on (spec 8.7): its grant's flag is cleared, and OWNER_DIED with no owner in
     * its word, in the pages supplied or carried by a grant, reads as 0 (the word before the death).
     */
    private static final class OwnerDiedOnlyWithWaiters implements XpProxy.Plant {
        private final Set<Long> contended = new HashSet<>();
        private final Set<Long> futexes = new HashSet<>();

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasMemoryObjectLockFutex()) {
                futexes.add(m.getMemoryObjectLockFutex().getOffset());
            }
            return m;
        }

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (m.hasMemoryObjectRelinquishFutex()) {
                contended.add(m.getMemoryObjectRelinquishFutex().getOffset());
            }
            if (m.hasMemoryObjectDataSupply()) {
                var s = m.getMemoryObjectDataSupply();
                return m.toBuilder().setMemoryObjectDataSupply(s.toBuilder().setData(forgotten(s.getOffset(),
                        s.getData()))).build();
            }
            if (!m.hasMemoryObjectFutexGranted()) {
                return m;
            }
            var g = m.getMemoryObjectFutexGranted().toBuilder();
            if (g.getOwnerDied() && !contended.contains(g.getOffset())) {
                g.setOwnerDied(false);
            }
            for (int i = 0; i < g.getPagesCount(); i++) {
                var d = g.getPages(i);
                g.setPages(i, d.toBuilder().setData(forgotten(d.getOffset(), d.getData())));
            }
            return m.toBuilder().setMemoryObjectFutexGranted(g).build();
        }

        /** The page's data with OWNER_DIED (no owner) of every uncontended futex in it read as 0. */
        private com.google.protobuf.ByteString forgotten(long page, com.google.protobuf.ByteString data) {
            byte[] b = data.toByteArray();
            boolean changed = false;
            for (long f : futexes) {
                int at = (int) (f - page);
                if (f < page || at + 4 > b.length || contended.contains(f)) {
                    continue;
                }
                var w = java.nio.ByteBuffer.wrap(b, at, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                if ((w.getInt(at) & 0x7fffffff) == 0x40000000) {
                    w.putInt(at, 0);
                    changed = true;
                }
            }
            return changed ? com.google.protobuf.ByteString.copyFrom(b) : data;
        }
    }

    /** On a resumed stream, what the pager sends again (sent before on the session) is lost. */
    private static final class NoReplay implements XpProxy.Plant {
        private final Map<String, Set<PagerToKernel>> sent = new HashMap<>();
        private final Set<XpProxy.Link> resumed = new HashSet<>();

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (m.hasPagerWelcome()) {
                if (m.getPagerWelcome().getResumed()) {
                    resumed.add(link);
                }
                return m;
            }
            Set<PagerToKernel> before = sent.computeIfAbsent(String.valueOf(link.name), n -> new HashSet<>());
            if (resumed.contains(link) && before.contains(m)) {
                return null;
            }
            before.add(m);
            return m;
        }
    }

    /** A resumed session has lost its places in futex queues: the grants it waited for never come. */
    private static final class QueueDroppedOnResume implements XpProxy.Plant {
        private final Map<String, Set<Long>> waiting = new HashMap<>();
        private final Map<XpProxy.Link, Set<Long>> forgotten = new HashMap<>();

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasMemoryObjectLockFutex() && !m.getMemoryObjectLockFutex().getTry()) {
                waiting.computeIfAbsent(String.valueOf(link.name), n -> new HashSet<>())
                        .add(m.getMemoryObjectLockFutex().getOffset());
            }
            return m;
        }

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            Set<Long> asked = waiting.computeIfAbsent(String.valueOf(link.name), n -> new HashSet<>());
            if (m.hasPagerWelcome() && m.getPagerWelcome().getResumed()) {
                forgotten.put(link, new HashSet<>(asked));
            } else if (m.hasMemoryObjectFutexGranted()) {
                long offset = m.getMemoryObjectFutexGranted().getOffset();
                if (forgotten.getOrDefault(link, Set.of()).contains(offset)) {
                    return null;
                }
                asked.remove(offset);
            }
            return m;
        }
    }
}
