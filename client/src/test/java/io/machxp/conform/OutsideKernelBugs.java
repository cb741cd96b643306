package io.machxp.conform;

import io.machxp.kernel.core.KernelPlants;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Kernel bugs an outside implementer of XP is likely to make, planted on the wire between
 * machxp's own kernel and the kit's pager (an {@link XpProxy} plant each): what the pager sees is
 * what such a kernel would send. Part of {@link PlantedKernels#all()}; each names the cases that
 * catch it (docs/testing.md, "The conformance kit's mutants").
 */
final class OutsideKernelBugs {
    private OutsideKernelBugs() {}

    static List<PlantedKernels.Bug> all() {
        return List.of(
                new PlantedKernels.Bug("takes a released futex again without asking", "^8\\.5-token-echo$",
                        KernelPlants.NONE, KeepsReleased::new),
                // dir2-review M1: names directory_disputes but ignores the list (here: never sees it)
                new PlantedKernels.Bug("maps an object its welcome listed in dispute", "^2\\.8-disputed-not-mapped$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public io.machxp.proto.xp.PagerToKernel down(XpProxy.Link link, io.machxp.proto.xp.PagerToKernel m) {
                        return m.hasPagerWelcome() ? m.toBuilder().setPagerWelcome(m.getPagerWelcome().toBuilder()
                                .clearDisputes()).build() : m;
                    }
                }),
                new PlantedKernels.Bug("does not answer lock_request with reply", "^6\\.4-lock-completed-absent$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectLockCompleted() ? null : m;
                    }
                }),
                new PlantedKernels.Bug("returns a dirty page under its old version", "^6\\.4-flush-returns-dirty$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectDataReturn() && m.getMemoryObjectDataReturn().getDirty()
                                ? m.toBuilder().setMemoryObjectDataReturn(m.getMemoryObjectDataReturn().toBuilder()
                                        .setVersion(m.getMemoryObjectDataReturn().getVersion() - 1)).build() : m;
                    }
                }),
                new PlantedKernels.Bug("reads an owner's death only from the grant, not from the word",
                        "^8\\.7-owner-died-in-word$", KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        // what such a kernel does with a word the pager recorded a death in: as a free word
                        if (!m.hasMemoryObjectDataSupply()) {
                            return m;
                        }
                        var s = m.getMemoryObjectDataSupply();
                        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(s.getData().toByteArray())
                                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                        for (int at = 0; at + 4 <= b.capacity(); at += 4) {
                            if ((b.getInt(at) & 0x7fffffff) == 0x40000000) {
                                b.putInt(at, 0);
                            }
                        }
                        return m.toBuilder().setMemoryObjectDataSupply(s.toBuilder().setData(
                                com.google.protobuf.ByteString.copyFrom(b.array()))).build();
                    }
                }),
                new PlantedKernels.Bug("sends a trylock without try", "^8\\.3-trylock-asks-try$", KernelPlants.NONE,
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectLockFutex() ? m.toBuilder().setMemoryObjectLockFutex(
                                m.getMemoryObjectLockFutex().toBuilder().setTry(false)).build() : m;
                    }
                }),
                new PlantedKernels.Bug("ignores futex_busy (the trylock waits on)", "^8\\.3-trylock-asks-try$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectFutexBusy() ? null : m;
                    }
                }),
                new PlantedKernels.Bug("gives an owned futex up to a relinquish with try", "^8\\.3-relinquish-try-held$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        if (!m.hasMemoryObjectFutexHeld()) {
                            return m;
                        }
                        var h = m.getMemoryObjectFutexHeld();
                        return KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased
                                .newBuilder().setObjectId(h.getObjectId()).setOffset(h.getOffset())
                                .setFencingToken(h.getFencingToken())).build();
                    }
                }),
                new PlantedKernels.Bug("gives a futex back without asking again for its local waiters",
                        "^8\\.4-release-asks-again$", KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectFutexReleased() ? m.toBuilder().setMemoryObjectFutexReleased(
                                m.getMemoryObjectFutexReleased().toBuilder().setRequestAgain(false)
                                        .setRequestPriority(0)).build() : m;
                    }
                }),
                new PlantedKernels.Bug("asks again with a separate lock_futex after its release",
                        "^8\\.4-release-asks-again$", KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        if (!m.hasMemoryObjectFutexReleased() || !m.getMemoryObjectFutexReleased().getRequestAgain()) {
                            return m;
                        }
                        var r = m.getMemoryObjectFutexReleased();
                        link.toPager(m.toBuilder().setMemoryObjectFutexReleased(r.toBuilder().setRequestAgain(false)
                                .setRequestPriority(0)).build());
                        return KernelToPager.newBuilder().setMemoryObjectLockFutex(io.machxp.proto.xp
                                .MemoryObjectLockFutex.newBuilder().setObjectId(r.getObjectId()).setOffset(r.getOffset())
                                .setPriority(r.getRequestPriority())).build();
                    }
                }),
                new PlantedKernels.Bug("keeps a flushed page (kernel_copy true)", "^6\\.4-flush-returns-dirty$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectDataReturn() ? m.toBuilder().setMemoryObjectDataReturn(
                                m.getMemoryObjectDataReturn().toBuilder().setKernelCopy(true)).build() : m;
                    }
                }));
    }

    /**
     * Once the kernel released a futex, its next lock of it is served as from a cache: the
     * lock_futex never reaches the pager, and the kernel gets a grant the pager never made.
     */
    private static final class KeepsReleased implements XpProxy.Plant {
        private final Map<Long, Long> released = new HashMap<>();

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasMemoryObjectFutexReleased()) {
                var r = m.getMemoryObjectFutexReleased();
                released.put(r.getOffset(), r.getFencingToken());
            } else if (m.hasMemoryObjectLockFutex() && released.containsKey(m.getMemoryObjectLockFutex().getOffset())) {
                var l = m.getMemoryObjectLockFutex();
                link.toKernel(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted
                        .newBuilder().setObjectId(l.getObjectId()).setOffset(l.getOffset())
                        .setFencingToken(released.remove(l.getOffset()) + 1)).build());
                return null;
            }
            return m;
        }
    }
}
