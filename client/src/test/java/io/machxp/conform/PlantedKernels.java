package io.machxp.conform;

import io.machxp.kernel.core.KernelPlants;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Kernels with one deliberate bug each: machxp's own kernel with a bug planted in its core
 * ({@link KernelPlants}), or behind an {@link XpProxy} whose plant is the bug on its XP stream.
 * Each names the cases (a --cases pattern) that are to catch it, so that its run stays short.
 */
final class PlantedKernels {
    private PlantedKernels() {}

    /** A bug: its name, the cases to run against it, the core's plants, the stream's plant (or null). */
    record Bug(String name, String cases, KernelPlants core, Supplier<XpProxy.Plant> stream) {
        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * The bugs below, then those an outside implementer is likely to make ({@link OutsideKernelBugs},
     * and in its resume, {@link ResumeKernelBugs}).
     */
    static List<Bug> all() {
        return java.util.stream.Stream.of(machxpBugs(), OutsideKernelBugs.all(), ResumeKernelBugs.all())
                .flatMap(List::stream).toList();
    }

    private static List<Bug> machxpBugs() {
        return List.of(
                new Bug("forgets to relinquish when asked", "^8\\.4-relinquish-free$", KernelPlants.NONE,
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectFutexReleased() ? null : m;
                    }
                }),
                new Bug("takes a deboost (relinquish priority 0) as a withdrawal", "^8\\.4-deboost-not-withdrawn$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    private final java.util.Set<Long> withdrawn = java.util.concurrent.ConcurrentHashMap.newKeySet();
                    private final java.util.Set<Long> boosted = java.util.concurrent.ConcurrentHashMap.newKeySet();

                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        if (m.hasMemoryObjectRelinquishFutex() && !m.getMemoryObjectRelinquishFutex().getTry()) {
                            long at = m.getMemoryObjectRelinquishFutex().getOffset();
                            if (m.getMemoryObjectRelinquishFutex().getPriority() > 0) {
                                boosted.add(at);
                                withdrawn.remove(at);
                            } else if (boosted.remove(at)) {
                                withdrawn.add(at); // the kernel clears its pending relinquish
                            }
                        }
                        return m;
                    }

                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectFutexReleased()
                                && withdrawn.remove(m.getMemoryObjectFutexReleased().getOffset()) ? null : m;
                    }
                }),
                new Bug("echoes a stale fencing token", "^8\\.5-token-echo$", KernelPlants.NONE, StaleToken::new),
                new Bug("keeps a page writable after lock_request", "^6\\.4-downgrade-write-protects$",
                        new KernelPlants() {
                    @Override
                    public boolean writeForbiddenByLockRequest(boolean forbid) {
                        return false;
                    }
                }, null),
                new Bug("drops the data_return of a dirty page", "^6\\.4-flush-returns-dirty$", KernelPlants.NONE,
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectDataReturn() && m.getMemoryObjectDataReturn().getDirty() ? null : m;
                    }
                }),
                new Bug("answers lock_completed before its data_return", "^6\\.4-flush-returns-dirty$",
                        KernelPlants.NONE, CompletedFirst::new),
                new Bug("hands out a cached futex after losing its lease", "^4\\.3-lease-stops-cache$",
                        new KernelPlants() {
                    @Override
                    public long leaseEnds(long nanos) {
                        return Long.MAX_VALUE;
                    }
                }, null),
                new Bug("ignores owner_died in a grant", "^8\\.7-owner-died$", KernelPlants.NONE,
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectFutexGranted() ? m.toBuilder().setMemoryObjectFutexGranted(
                                m.getMemoryObjectFutexGranted().toBuilder().setOwnerDied(false)).build() : m;
                    }
                }),
                new Bug("ignores stale_heir_tid in a grant", "^8\\.4-stale-heir-rewritten$", KernelPlants.NONE,
                        () -> new XpProxy.Plant() {
                    @Override
                    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                        return m.hasMemoryObjectFutexGranted() ? m.toBuilder().setMemoryObjectFutexGranted(
                                m.getMemoryObjectFutexGranted().toBuilder().setStaleHeirTid(0)).build() : m;
                    }
                }),
                // dir2-review M1, dir3-review: keeps a pager's dispute list only until a resume
                new Bug("drops its dispute list at a resume", "^2\\.8-disputed-not-mapped$", new KernelPlants() {
                    @Override
                    public boolean disputesKept(boolean keeps) {
                        return false;
                    }
                }, null),
                new Bug("reorders local waiters of equal priority", "^8\\.6-equal-priority-fifo$", new KernelPlants() {
                    @Override
                    public boolean arrivalOrderAmongEquals(boolean inOrder) {
                        return false;
                    }
                }, null),
                new Bug("wrong errno for a bad address", "^11\\.1-bad-address$", new KernelPlants() {
                    @Override
                    public Errno unmappedAddress(Errno errno) {
                        return Errno.EIO;
                    }
                }, null),
                new Bug("applies a lock_request range to its first page only", "^6\\.4-lock-range$",
                        new KernelPlants() {
                    @Override
                    public boolean lockRangePage(boolean applies, boolean first) {
                        return first;
                    }
                }, null),
                new Bug("drops precious pages silently", "^6\\.10-precious-returned$", new KernelPlants() {
                    @Override
                    public boolean preciousReturned(boolean precious) {
                        return false;
                    }
                }, null),
                new Bug("synchronizes without returning the dirty pages first", "^6\\.9-msync$", KernelPlants.NONE,
                        () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return m.hasMemoryObjectDataReturn() && m.getMemoryObjectDataReturn().getKernelCopy() ? null : m;
                    }
                }));
    }

    /** Puts the token of the grant before the current one in every release. */
    private static final class StaleToken implements XpProxy.Plant {
        private long previous;
        private long current;

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (m.hasMemoryObjectFutexGranted()) {
                previous = current == 0 ? m.getMemoryObjectFutexGranted().getFencingToken() : current;
                current = m.getMemoryObjectFutexGranted().getFencingToken();
            }
            return m;
        }

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            return m.hasMemoryObjectFutexReleased() ? m.toBuilder().setMemoryObjectFutexReleased(
                    m.getMemoryObjectFutexReleased().toBuilder().setFencingToken(previous)).build() : m;
        }
    }

    /** Holds each data_return back until the next lock_completed has gone by. */
    private static final class CompletedFirst implements XpProxy.Plant {
        private final List<KernelToPager> held = new ArrayList<>();

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasMemoryObjectDataReturn()) {
                held.add(m);
                return null;
            }
            if (m.hasMemoryObjectLockCompleted()) {
                link.toPager(m);
                held.forEach(link::toPager);
                held.clear();
                return null;
            }
            return m;
        }
    }
}
