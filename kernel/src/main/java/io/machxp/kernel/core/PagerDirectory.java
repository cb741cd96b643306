package io.machxp.kernel.core;

import io.machxp.proto.text.Utf8Order;
import io.machxp.proto.xp.PagerDirectoryView;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Which pager serves each memory object, by name: the kernel's configuration of its pagers (see
 * docs/multi-pager.md). Pagers are numbered 0 to {@code count - 1} in the order the kernel was
 * given them; pager 0 is the kernel's <em>primary</em> pager, whose kernel id makes its TIDs.
 *
 * <p>An object is served by the pager its name is assigned to, else by the rule: CRC-32 of the
 * name (UTF-8) modulo the number of pagers. Every kernel of a cluster must be given the same
 * directory (the same pagers in the same order, the same assignments): two kernels that disagree
 * would ask two pagers for one object. Each kernel_hello therefore carries the directory as that
 * pager sees it ({@link #viewFor}), and a pager compares it with its other kernels' views, object by
 * object: the kernel that would start a second copy of an object is refused that object (its
 * welcome lists it in dispute, or its init is answered with memory_object_destroy; xp-spec 2.8); a
 * pager told what it serves also refuses the others (memory_object_destroy).
 *
 * <p>With one pager every object is pager 0's: the single-pager kernel, unchanged.
 */
public final class PagerDirectory {
    /** One pager serves everything. */
    public static final PagerDirectory SINGLE = new PagerDirectory(1, Map.of());
    /** The most pagers a kernel uses (each is a session with its own lease and streams). */
    public static final int MAX_PAGERS = 64;

    private final int count;
    private final Map<String, Integer> assigned;

    private PagerDirectory(int count, Map<String, Integer> assigned) {
        this.count = count;
        this.assigned = Collections.unmodifiableMap(new LinkedHashMap<>(assigned)); // in the order given: Map.copyOf's varies by JVM
    }

    /**
     * @param count the number of pagers, 1 to {@link #MAX_PAGERS}
     * @param assigned object name to pager number; every other object by the rule
     */
    public static PagerDirectory of(int count, Map<String, Integer> assigned) {
        if (count < 1 || count > MAX_PAGERS) {
            throw new IllegalArgumentException("a kernel uses 1 to " + MAX_PAGERS + " pagers, not " + count);
        }
        assigned.forEach((name, pager) -> {
            if (pager == null || pager < 0 || pager >= count) {
                throw new IllegalArgumentException("object '" + name + "' is assigned to pager " + pager
                        + ", but pagers are numbered 0 to " + (count - 1));
            }
        });
        return count == 1 && assigned.isEmpty() ? SINGLE : new PagerDirectory(count, assigned);
    }

    /**
     * Parses assignments written {@code name=pager,name=pager} (pager numbers from 0, in decimal
     * without leading zeros: {@link #pagerNumber}); empty or null: none.
     */
    public static PagerDirectory parse(int count, String assignments) {
        Map<String, Integer> map = new LinkedHashMap<>();
        if (assignments != null && !assignments.isBlank()) {
            for (String item : assignments.split(",")) {
                int eq = item.lastIndexOf('=');
                if (eq <= 0 || eq == item.length() - 1) {
                    throw new IllegalArgumentException("'" + item + "' is not an assignment: write OBJECT=PAGER, "
                            + "e.g. shared=1 (pagers numbered from 0)");
                }
                String name = item.substring(0, eq).trim();
                int pager = pagerNumber(item, item.substring(eq + 1).trim(), count);
                Integer before = map.put(name, pager);
                if (before != null && before != pager) {
                    throw new IllegalArgumentException("object '" + name + "' is assigned twice, to pager " + before
                            + " and to pager " + pager + ": give each object one pager");
                }
            }
        }
        return of(count, map);
    }

    /**
     * The pager number {@code text} of assignment {@code item}: decimal digits without a sign or
     * leading zeros ("0", not "00" or "+0"), as the view every hello states writes it (xp-spec
     * 12.41): a pager reads each number in one canonical text, and refuses any other
     * (xpreview-review LOW-3), so the kernel takes no other either.
     */
    private static int pagerNumber(String item, String text, int count) {
        boolean digits = !text.isEmpty() && text.length() <= 9 && text.chars().allMatch(c -> c >= '0' && c <= '9');
        if (!digits || (text.length() > 1 && text.charAt(0) == '0')) {
            throw new IllegalArgumentException("'" + item + "': the pager is a number from 0 to " + (count - 1)
                    + ", written in decimal without a sign or leading zeros (e.g. " + item.substring(0, item.lastIndexOf('=') + 1)
                    + (digits ? Integer.parseInt(text) : 0) + ")");
        }
        return Integer.parseInt(text);
    }

    /** The number of pagers (at least 1). */
    public int count() {
        return count;
    }

    /** The number of the pager that serves the object {@code name}. */
    public int pagerOf(String name) {
        Integer p = assigned.get(name);
        return p != null ? p : ruleFor(name, count);
    }

    /** Whether {@code name} has an explicit assignment (else the rule decides). */
    public boolean assigned(String name) {
        return assigned.containsKey(name);
    }

    /** The rule for names nobody assigned: CRC-32 of the UTF-8 name modulo {@code count}. */
    public static int ruleFor(String name, int count) {
        if (count == 1) {
            return 0;
        }
        CRC32 crc = new CRC32();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % count);
    }

    /**
     * This directory as pager {@code index} sees it, in the canonical form kernel_hello carries
     * (xp-spec 2.8): the count, the index, and the assignments the rule would not make, sorted by
     * object name in UTF-8 byte order (code point order; Java's {@code String} order differs for
     * names outside the Basic Multilingual Plane). Two kernels that send every object to the same
     * pagers give equal views.
     */
    public PagerDirectoryView viewFor(int index) {
        PagerDirectoryView.Builder v = PagerDirectoryView.newBuilder().setPagerCount(count).setPagerIndex(index);
        Map<String, Integer> sorted = new TreeMap<>(Utf8Order.NAMES);
        sorted.putAll(assigned);
        sorted.forEach((name, pager) -> {
            if (pager != ruleFor(name, count)) {
                v.addAssignments(name + "=" + pager);
            }
        });
        return v.build();
    }

    /** The explicit assignments, in the form {@link #parse} reads. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(count + " pager(s)");
        assigned.forEach((n, p) -> b.append(b.indexOf(":") < 0 ? ": " : ",").append(n).append('=').append(p));
        return b.toString();
    }
}
