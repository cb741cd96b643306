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
 * orders to it), by the kernel ordered to forward it (its terminate or departure gates their
 * pages: {@link PagerForwards#holderLeaving}) and by the futex's page (a request for a gated page
 * withdraws the orders on it). So a kernel's terminate or a page request looks at its own orders
 * only, not at every one outstanding, nor at every futex it holds (none at all under
 * GrantPolicy.IMMEDIATE, which orders no forward). Pager core thread only; derived state (the orders are on the records).
 *
 * <h2>Overview</h2>
 * <pre>
 *  ordered (add)              -> indexed under its target and its holder (each also with the
 *                                object) and its page, in the order ordered
 *  settled (remove)           -> out of all
 *  toward(K, object)          -> the orders to K (of the object; null: of all), in the order ordered
 *  from(K, object)            -> the orders K was given (alike)
 *  onPage(object, page)       -> the orders on the page, in the order ordered
 * </pre>
 */
final class ForwardsActive {
    private final Map<KernelSession, Set<FutexRecord>> byTarget = new HashMap<>();
    private final Map<Target, Set<FutexRecord>> byTargetObject = new HashMap<>();
    private final Map<KernelSession, Set<FutexRecord>> byFrom = new HashMap<>();
    private final Map<Target, Set<FutexRecord>> byFromObject = new HashMap<>();
    private final Map<FutexKey, Set<FutexRecord>> byPage = new HashMap<>();

    /** A forward was ordered for {@code f} ({@code f.forward} set). */
    void add(FutexRecord f) {
        FutexForwarding fw = f.forward;
        byTarget.computeIfAbsent(fw.to, k -> new LinkedHashSet<>()).add(f);
        byTargetObject.computeIfAbsent(new Target(fw.to, f.key.object()), k -> new LinkedHashSet<>()).add(f);
        byFrom.computeIfAbsent(fw.from, k -> new LinkedHashSet<>()).add(f);
        byFromObject.computeIfAbsent(new Target(fw.from, f.key.object()), k -> new LinkedHashSet<>()).add(f);
        byPage.computeIfAbsent(new FutexKey(f.key.object(), fw.pageOffset), k -> new LinkedHashSet<>()).add(f);
    }

    /** The forward {@code fw} ordered for {@code f} settled. */
    void remove(FutexRecord f, FutexForwarding fw) {
        drop(byTarget, fw.to, f);
        drop(byTargetObject, new Target(fw.to, f.key.object()), f);
        drop(byFrom, fw.from, f);
        drop(byFromObject, new Target(fw.from, f.key.object()), f);
        drop(byPage, new FutexKey(f.key.object(), fw.pageOffset), f);
    }

    /** The futexes forwarded to {@code to}, of {@code object} (null: of every object): a copy. */
    List<FutexRecord> toward(KernelSession to, String object) {
        Set<FutexRecord> mine = object == null ? byTarget.get(to) : byTargetObject.get(new Target(to, object));
        return mine == null ? List.of() : List.copyOf(mine);
    }

    /** The futexes {@code from} was ordered to forward, of {@code object} (null: of every object): a copy. */
    List<FutexRecord> from(KernelSession from, String object) {
        Set<FutexRecord> its = object == null ? byFrom.get(from) : byFromObject.get(new Target(from, object));
        return its == null ? List.of() : List.copyOf(its);
    }

    /** The futexes of {@code object} forwarded with the page at {@code pageOffset}: a copy. */
    List<FutexRecord> onPage(String object, long pageOffset) {
        Set<FutexRecord> on = byPage.get(new FutexKey(object, pageOffset));
        return on == null ? List.of() : List.copyOf(on);
    }

    /** A kernel (a forward's target or holder) and an object. */
    private record Target(KernelSession kernel, String object) {
    }

    private static <K> void drop(Map<K, Set<FutexRecord>> index, K key, FutexRecord f) {
        Set<FutexRecord> set = index.get(key);
        if (set != null && set.remove(f) && set.isEmpty()) {
            index.remove(key);
        }
    }
}
