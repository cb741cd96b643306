package io.machxp.pager.core;

import io.machxp.pager.futex.FutexForwarding;
import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The futexes with a direct handoff ordered ({@link PagerForwards}), indexed by what the walks over
 * them look for: by the kernel each is forwarded to (its terminate or departure withdraws the
 * orders to it) and by the futex's page (a request for a gated page withdraws the orders on it).
 * So a kernel's terminate or a page request looks at its own orders only, not at every one
 * outstanding. Pager core thread only; derived state (the orders are on the records).
 *
 * <h2>Overview</h2>
 * <pre>
 *  ordered (add)              -> indexed under its target (and the target and object) and its
 *                                page, in the order ordered
 *  settled (remove)           -> out of both
 *  toward(K, object)          -> K's orders (of the object; null: of all), in the order ordered
 *  onPage(object, page)       -> the orders on the page, in the order ordered
 * </pre>
 */
final class ForwardsActive {
    private final Map<KernelSession, Set<FutexRecord>> byTarget = new HashMap<>();
    private final Map<Target, Set<FutexRecord>> byTargetObject = new HashMap<>();
    private final Map<FutexKey, Set<FutexRecord>> byPage = new HashMap<>();

    /** A forward was ordered for {@code f} ({@code f.forward} set). */
    void add(FutexRecord f) {
        FutexForwarding fw = f.forward;
        byTarget.computeIfAbsent(fw.to, k -> new LinkedHashSet<>()).add(f);
        byTargetObject.computeIfAbsent(new Target(fw.to, f.key.object()), k -> new LinkedHashSet<>()).add(f);
        byPage.computeIfAbsent(new FutexKey(f.key.object(), fw.pageOffset), k -> new LinkedHashSet<>()).add(f);
    }

    /** The forward {@code fw} ordered for {@code f} settled. */
    void remove(FutexRecord f, FutexForwarding fw) {
        drop(byTarget, fw.to, f);
        drop(byTargetObject, new Target(fw.to, f.key.object()), f);
        drop(byPage, new FutexKey(f.key.object(), fw.pageOffset), f);
    }

    /** The futexes forwarded to {@code to}, of {@code object} (null: of every object): a copy. */
    List<FutexRecord> toward(KernelSession to, String object) {
        Set<FutexRecord> mine = object == null ? byTarget.get(to) : byTargetObject.get(new Target(to, object));
        return mine == null ? List.of() : List.copyOf(mine);
    }

    /** The futexes of {@code object} forwarded with the page at {@code pageOffset}: a copy. */
    List<FutexRecord> onPage(String object, long pageOffset) {
        Set<FutexRecord> on = byPage.get(new FutexKey(object, pageOffset));
        return on == null ? List.of() : List.copyOf(on);
    }

    private record Target(KernelSession to, String object) {
    }

    private static <K> void drop(Map<K, Set<FutexRecord>> index, K key, FutexRecord f) {
        Set<FutexRecord> set = index.get(key);
        if (set != null && set.remove(f) && set.isEmpty()) {
            index.remove(key);
        }
    }
}
