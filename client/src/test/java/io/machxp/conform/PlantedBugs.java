package io.machxp.conform;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Pagers with one deliberate bug each: machxp's own pager behind an {@link XpProxy} whose plant is
 * the bug. Each names the cases (a --cases pattern) that are to catch it, so that its run stays
 * short.
 */
final class PlantedBugs {
    private PlantedBugs() {}

    /** A bug: its name, the cases to run against it, the plant (made fresh for each run). */
    record Bug(String name, String cases, Supplier<XpProxy.Plant> plant, String says) {
        /** A bug whose failing case's message is not checked. */
        Bug(String name, String cases, Supplier<XpProxy.Plant> plant) {
            this(name, cases, plant, null);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The bugs below, then those an outside implementer is likely to make ({@link OutsidePagerBugs}). */
    static List<Bug> all() {
        return java.util.stream.Stream.concat(machxpBugs().stream(), OutsidePagerBugs.all().stream()).toList();
    }

    private static List<Bug> machxpBugs() {
        return List.of(
                new Bug("repeated fencing token", "^8\\.(4-relinquish|5-tokens-grow)$", RepeatedToken::new),
                new Bug("lock_request ranges to a kernel that did not name lock_ranges", "^6\\.4-ranges-only-announced$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasKernelHello() ? m.toBuilder().setKernelHello(m.getKernelHello().toBuilder()
                                .addFeatures("lock_ranges")).build() : m;
                    }
                }),
                new Bug("precious pages to a kernel that did not name precious", "^6\\.10-precious-only-announced$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (m.hasMemoryObjectDataUnavailable()) { // a precious page goes as a supply, of zeros
                            var u = m.getMemoryObjectDataUnavailable();
                            return PagerToKernel.newBuilder().setMemoryObjectDataSupply(
                                    io.machxp.proto.xp.MemoryObjectDataSupply.newBuilder().setObjectId(u.getObjectId())
                                            .setOffset(u.getOffset()).setData(com.google.protobuf.ByteString.copyFrom(
                                                    new byte[(int) u.getLength()])).setLockValue(u.getLockValue())
                                            .setVersion(u.getVersion()).setPrecious(true).setReply(true)).build();
                        }
                        return m.hasMemoryObjectDataSupply() ? m.toBuilder().setMemoryObjectDataSupply(
                                m.getMemoryObjectDataSupply().toBuilder().setPrecious(true).setReply(true)).build() : m;
                    }
                }),
                new Bug("reclaim again refused (the welcome lost, the kernel must stop)", "^9\\.4-reclaim-again$",
                        () -> new XpProxy.Plant() {
                    private final java.util.Set<String> reclaimed = ConcurrentHashMap.newKeySet();

                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        // The pager's old rule: a second reclaim of a name is another kernel's (EEXIST), as the
                        // pager makes of it once the proxy gives it another name under the same id.
                        if (!m.hasKernelHello() || !m.getKernelHello().hasReclaim()
                                || reclaimed.add(m.getKernelHello().getKernelName())) {
                            return m;
                        }
                        return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder()
                                .setKernelName(m.getKernelHello().getKernelName() + "-again")).build();
                    }
                }),
                // Refused as stale inside the grace period (review kitload): the kit's SKIP for an
                // ESTALE a lease or more after the restart began must not cover a refusal well before.
                new Bug("a reclaim again refused as stale inside the grace period", "^9\\.4-reclaim-again$",
                        () -> new XpProxy.Plant() {
                    private final java.util.Map<String, Long> firstAttempt = new ConcurrentHashMap<>();

                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        // Every reclaim of a name carries the attempt of its first: the pager takes the
                        // reclaim again for the earlier attempt and refuses it (ESTALE) at once.
                        if (!m.hasKernelHello() || !m.getKernelHello().hasReclaim()) {
                            return m;
                        }
                        long first = firstAttempt.computeIfAbsent(m.getKernelHello().getKernelName(),
                                n -> m.getKernelHello().getReclaim().getAttempt());
                        return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setReclaim(
                                m.getKernelHello().getReclaim().toBuilder().setAttempt(first))).build();
                    }
                }, "inside the grace period of a pager that took the kernel's first reclaim"),
                new Bug("an earlier reclaim attempt taken (no order between a kernel's attempts)",
                        "^9\\.4-reclaim-again-earlier-attempt$", () -> new XpProxy.Plant() {
                    private final java.util.Map<String, Long> attempts = new ConcurrentHashMap<>();

                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        // A pager that ignores attempt: as if each reclaim of a name were newer than the last.
                        if (!m.hasKernelHello() || !m.getKernelHello().hasReclaim()) {
                            return m;
                        }
                        long attempt = attempts.merge(m.getKernelHello().getKernelName(), 1L, Long::sum);
                        return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setReclaim(
                                m.getKernelHello().getReclaim().toBuilder().setAttempt(attempt))).build();
                    }
                }),
                new Bug("a reclaim again added to the first (the old session's holds kept)", "^9\\.4-reclaim-again$",
                        () -> new XpProxy.Plant() {
                    private final java.util.Map<String, io.machxp.proto.xp.Reclaim> first = new ConcurrentHashMap<>();

                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        // The union: the pages of the name's first reclaim that the reclaim again leaves out
                        // are added to it, as a pager keeping the old session's holds would count them.
                        if (!m.hasKernelHello() || !m.getKernelHello().hasReclaim()) {
                            return m;
                        }
                        io.machxp.proto.xp.Reclaim r = m.getKernelHello().getReclaim();
                        io.machxp.proto.xp.Reclaim earlier = first.putIfAbsent(m.getKernelHello().getKernelName(), r);
                        if (earlier == null) {
                            return m;
                        }
                        io.machxp.proto.xp.Reclaim.Builder union = r.toBuilder();
                        for (int i = 0; i < union.getObjectsCount() && i < earlier.getObjectsCount(); i++) {
                            var o = union.getObjectsBuilder(i);
                            java.util.Set<Long> named = new java.util.HashSet<>();
                            o.getPagesList().forEach(pg -> named.add(pg.getOffset()));
                            earlier.getObjects(i).getPagesList().stream().filter(pg -> !named.contains(pg.getOffset()))
                                    .forEach(o::addPages);
                        }
                        return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setReclaim(union)).build();
                    }
                }, "still counted the first reclaim's holds"),
                new Bug("synchronize answered as done after a stale return", "^6\\.9-synchronize-stale-return$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectSynchronizeCompleted() ? m.toBuilder().setMemoryObjectSynchronizeCompleted(
                                m.getMemoryObjectSynchronizeCompleted().toBuilder().clearError()).build() : m;
                    }
                }),
                new Bug("an init of an id in use dropped unanswered", "^5\\.1-init-in-use$", () -> new XpProxy.Plant() {
                    private final Map<XpProxy.Link, java.util.Set<Integer>> inUse = new ConcurrentHashMap<>();

                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        // The old rule (xp-spec 3.4 before outside review 3, O3-4): dropped as breaking a rule.
                        java.util.Set<Integer> ids = inUse.computeIfAbsent(link, l -> ConcurrentHashMap.newKeySet());
                        if (m.hasMemoryObjectTerminate()) {
                            ids.remove(m.getMemoryObjectTerminate().getObjectId());
                        } else if (m.hasMemoryObjectInit() && !ids.add(m.getMemoryObjectInit().getObjectId())) {
                            return null;
                        }
                        return m;
                    }
                }),
                new Bug("answers under a just-terminated second id refused", "^5\\.3-answer-under-terminated-id$",
                        () -> new XpProxy.Plant() {
                    private final Map<XpProxy.Link, java.util.Set<Integer>> terminated = new ConcurrentHashMap<>();

                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        java.util.Set<Integer> ids = terminated.computeIfAbsent(link, l -> ConcurrentHashMap.newKeySet());
                        if (m.hasMemoryObjectTerminate()) {
                            ids.add(m.getMemoryObjectTerminate().getObjectId());
                        } else if (m.hasMemoryObjectInit()) {
                            ids.remove(m.getMemoryObjectInit().getObjectId());
                        } else if (m.hasMemoryObjectFutexReleased()
                                && ids.contains(m.getMemoryObjectFutexReleased().getObjectId())) {
                            return null; // refused as naming an id never initialized
                        }
                        return m;
                    }
                }),
                new Bug("missing relinquish", "^8\\.4-relinquish$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectRelinquishFutex() ? null : m;
                    }
                }),
                new Bug("release accepted with a stale token", "^8\\.5-stale-release", StaleReleaseAccepted::new),
                new Bug("lost owner_died", "^4\\.5-owner-died$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectFutexGranted() ? m.toBuilder().setMemoryObjectFutexGranted(
                                m.getMemoryObjectFutexGranted().toBuilder().setOwnerDied(false)).build() : m;
                    }
                }),
                new Bug("stale_heir_tid never cleared", "^8\\.4-stale-heir-carried$", () -> new XpProxy.Plant() {
                    private final Map<Long, Integer> carried = new ConcurrentHashMap<>();

                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (!m.hasMemoryObjectFutexGranted()) {
                            return m;
                        }
                        var g = m.getMemoryObjectFutexGranted();
                        if (g.getStaleHeirTid() != 0) {
                            carried.put(g.getOffset(), g.getStaleHeirTid());
                            return m;
                        }
                        Integer tid = carried.get(g.getOffset());
                        return tid == null || g.getOwnerDied() ? m : m.toBuilder().setMemoryObjectFutexGranted(
                                g.toBuilder().setStaleHeirTid(tid)).build();
                    }
                }),
                new Bug("stale_heir_tid carried to one grant only", "^8\\.4-stale-heir-carried$",
                        () -> new XpProxy.Plant() {
                    private final Map<Long, Boolean> carried = new ConcurrentHashMap<>();

                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (!m.hasMemoryObjectFutexGranted() || m.getMemoryObjectFutexGranted().getStaleHeirTid() == 0) {
                            return m;
                        }
                        var g = m.getMemoryObjectFutexGranted();
                        return carried.putIfAbsent(g.getOffset(), true) == null ? m : m.toBuilder()
                                .setMemoryObjectFutexGranted(g.toBuilder().setStaleHeirTid(0)).build();
                    }
                }),
                new Bug("read copies given writable", "^6\\.(1-readers-share|2-read-copy)$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (m.hasMemoryObjectDataSupply()) {
                            return m.toBuilder().setMemoryObjectDataSupply(m.getMemoryObjectDataSupply().toBuilder()
                                    .setLockValue(VmProt.VM_PROT_NONE)).build();
                        }
                        return m.hasMemoryObjectDataUnavailable() ? m.toBuilder().setMemoryObjectDataUnavailable(
                                m.getMemoryObjectDataUnavailable().toBuilder().setLockValue(VmProt.VM_PROT_NONE)).build()
                                : m;
                    }
                }),
                new Bug("page writable to two kernels (no flush)", "^6\\.1-write-flushes-readers$", NoFlush::new),
                new Bug("lost data_return", "^6\\.1-(read-downgrades|write-flushes)-writer$", () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectDataReturn() ? null : m;
                    }
                }),
                new Bug("keepalive not answered", "^4\\.2-keepalive$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasPagerKeepalive() ? null : m;
                    }
                }),
                new Bug("no data_error for an uninitialized object", "^3\\.5-request-uninitialized$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectDataError() ? null : m;
                    }
                }),
                new Bug("pages supplied without their version", "^6\\.1-read-downgrades-writer$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectDataSupply() ? m.toBuilder().setMemoryObjectDataSupply(
                                m.getMemoryObjectDataSupply().toBuilder().setVersion(0)).build() : m;
                    }
                }),
                new Bug("any protocol version welcomed", "^2\\.3-", () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasKernelHello() ? m.toBuilder().setKernelHello(m.getKernelHello().toBuilder()
                                .setProtocolVersion(1)).build() : m;
                    }
                }),
                new Bug("messages before hello ignored", "^3\\.2-before-hello$", () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return link.helloSeen || m.hasKernelHello() ? m : null;
                    }
                }),
                new Bug("a reclaim's part out of place ignored", "^9\\.4-reclaim-part-out-of-place$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectReclaimContinue() ? null : m;
                    }
                }),
                // An older pager's reading of a reclaim in parts (review F7): the hello taken as the
                // whole account, the continues never reaching the core.
                new Bug("first part taken as the whole reclaim", "^9\\.4-reclaim-in-parts$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        if (m.hasMemoryObjectReclaimContinue()) {
                            return null;
                        }
                        return m.hasKernelHello() && m.getKernelHello().getReclaim().getContinues()
                                ? m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setReclaim(m
                                        .getKernelHello().getReclaim().toBuilder().setContinues(false))).build()
                                : m;
                    }
                }),
                // The gate of spec 2.3 broken both ways: a pager that says reclaim_in_parts but speaks
                // version 1 only, and one that takes parts from a version-1 hello.
                new Bug("version 2 refused by a pager that takes parts", "^2\\.3-parts-version-2$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasKernelHello() && m.getKernelHello().getProtocolVersion() == 2
                                ? m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setProtocolVersion(3))
                                        .build()
                                : m;
                    }
                }),
                new Bug("a reclaim in parts taken from a version-1 hello", "^9\\.4-reclaim-parts-need-version-2$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasKernelHello() && m.getKernelHello().getReclaim().getContinues()
                                ? m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setProtocolVersion(2))
                                        .build()
                                : m;
                    }
                }),
                // Review indep-2 N1: a page named twice, held entry first, dropped without telling the
                // kernel (the pager's discard of the refused page never reaches it).
                new Bug("a page named twice in a reclaim dropped silently", "^9\\.5-reclaim-page-named-twice$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectLockRequest() && !m.getMemoryObjectLockRequest().getReply()
                                && m.getMemoryObjectLockRequest().getShouldFlush() ? null : m;
                    }
                }),
                // Review indep-fix F5: the discard of a page named twice asks for the page back
                // (RETURN_DIRTY, reply) instead of lock_request(RETURN_NONE, flush, lock NONE, no reply).
                new Bug("a page named twice in a reclaim asked back, not dropped", "^9\\.5-reclaim-page-named-twice$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectLockRequest() && !m.getMemoryObjectLockRequest().getReply()
                                && m.getMemoryObjectLockRequest().getShouldFlush()
                                ? m.toBuilder().setMemoryObjectLockRequest(m.getMemoryObjectLockRequest().toBuilder()
                                        .setShouldReturn(io.machxp.proto.xp.ReturnPolicy.RETURN_DIRTY).setReply(true))
                                        .build()
                                : m;
                    }
                }),
                // Review indep-fix F5: the repeated entry's data taken (every page served after the discard
                // carries the repeat's 0x3c bytes at the repeat's version).
                new Bug("the data of a page named twice taken", "^9\\.5-reclaim-page-named-twice$",
                        () -> new XpProxy.Plant() {
                    private volatile boolean discarded;

                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (m.hasMemoryObjectLockRequest() && !m.getMemoryObjectLockRequest().getReply()) {
                            discarded = true;
                        }
                        if (!discarded || !m.hasMemoryObjectDataSupply() && !m.hasMemoryObjectDataUnavailable()) {
                            return m;
                        }
                        var u = m.hasMemoryObjectDataSupply() ? null : m.getMemoryObjectDataUnavailable();
                        var s = u == null ? m.getMemoryObjectDataSupply().toBuilder()
                                : io.machxp.proto.xp.MemoryObjectDataSupply.newBuilder().setObjectId(u.getObjectId())
                                        .setOffset(u.getOffset()).setLockValue(u.getLockValue())
                                        .setVersion(u.getVersion());
                        byte[] data = new byte[u == null ? s.getData().size() : (int) u.getLength()];
                        java.util.Arrays.fill(data, (byte) 0x3c);
                        return PagerToKernel.newBuilder().setMemoryObjectDataSupply(s.setVersion(s.getVersion() + 1)
                                .setData(com.google.protobuf.ByteString.copyFrom(data))).build();
                    }
                }),
                new Bug("futex_busy never sent", "^8\\.3-trylock-(busy|held)$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectFutexBusy() ? null : m;
                    }
                }),
                new Bug("one kernel id for every kernel", "^2\\.5-distinct-ids$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasPagerWelcome() ? m.toBuilder().setPagerWelcome(m.getPagerWelcome().toBuilder()
                                .setKernelId(1)).build() : m;
                    }
                }),
                new Bug("dirty data not asked for", "^6\\.1-read-downgrades-writer$", () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectLockRequest() ? m.toBuilder().setMemoryObjectLockRequest(
                                m.getMemoryObjectLockRequest().toBuilder().setShouldReturn(ReturnPolicy.RETURN_NONE))
                                .build() : m;
                    }
                }),
                // shows once (a case run again would pass): the kit must not run it again, for it did not stall
                new Bug("a waiting kernel's keepalives left unanswered and the kernel declared dead early, once",
                        "^4\\.5-owner-died$", () -> new DropsAKernelOnce("4.5-owner-died-b"),
                        "the stream ended (FAILED_PRECONDITION"),
                new Bug("a broken stream's futexes released at once", "^4\\.4-broken-stream-holds$",
                        () -> new XpProxy.Plant() {
                    @Override
                    public void broken(XpProxy.Link link, Throwable t) {
                        // as if the pager forgot a crashed kernel at once: everything goes back, no owner_died
                        link.toPager(KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate
                                .newBuilder().setObjectId(PagerProbe.OBJECT_ID)).build());
                        link.pager.onCompleted();
                    }
                }));
    }

    /** Every grant of a futex carries the first token the futex was granted with. */
    private static final class RepeatedToken implements XpProxy.Plant {
        private final Map<Long, Long> first = new ConcurrentHashMap<>();

        @Override
        public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (!m.hasMemoryObjectFutexGranted()) {
                return m;
            }
            var g = m.getMemoryObjectFutexGranted();
            long token = first.computeIfAbsent(g.getOffset(), o -> g.getFencingToken());
            return m.toBuilder().setMemoryObjectFutexGranted(g.toBuilder().setFencingToken(token)).build();
        }

        @Override
        public KernelToPager up(XpProxy.Link link, KernelToPager m) {
            return m; // the kernel's releases carry the repeated token: the real pager refuses them
        }
    }

    /** A release is taken whatever its token: the proxy puts the token of the kernel's last grant in. */
    private static final class StaleReleaseAccepted implements XpProxy.Plant {
        private final Map<XpProxy.Link, Map<Long, Long>> granted = new ConcurrentHashMap<>();

        @Override
        public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (m.hasMemoryObjectFutexGranted()) {
                granted.computeIfAbsent(link, l -> new ConcurrentHashMap<>()).put(
                        m.getMemoryObjectFutexGranted().getOffset(), m.getMemoryObjectFutexGranted().getFencingToken());
            }
            return m;
        }

        @Override
        public KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (!m.hasMemoryObjectFutexReleased()) {
                return m;
            }
            Long token = granted.getOrDefault(link, Map.of()).get(m.getMemoryObjectFutexReleased().getOffset());
            return token == null ? m : m.toBuilder().setMemoryObjectFutexReleased(m.getMemoryObjectFutexReleased()
                    .toBuilder().setFencingToken(token)).build();
        }
    }

    /**
     * A write does not take the page from the kernels holding it: the flush never reaches them, and
     * the proxy answers it to the pager as if they had complied.
     */
    private static final class NoFlush implements XpProxy.Plant {
        @Override
        public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (!m.hasMemoryObjectLockRequest() || !m.getMemoryObjectLockRequest().getShouldFlush()) {
                return m;
            }
            var r = m.getMemoryObjectLockRequest();
            if (r.getReply()) {
                link.toPager(KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted
                        .newBuilder().setObjectId(r.getObjectId()).setOffset(r.getOffset()).setLength(r.getLength()))
                        .build());
            }
            return null;
        }
    }
}
