package io.machxp.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import io.machxp.kernel.core.PagerDirectory;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The memory objects of a scenario and the pagers that serve them: {@code pagers: N} (default 1),
 * and under {@code objects} each object's size, or {@code {size: SIZE, pager: P}} to name its pager
 * (0 to N - 1; default 0). Part of {@link ScenarioParser}: mistakes go to its list.
 */
final class ScenarioObjects {
    static final List<String> OBJECT = List.of("size", "pager");

    private final ScenarioParser parser;
    private final Map<String, Long> sizes = new LinkedHashMap<>();
    private final Map<String, Integer> pagerOf = new LinkedHashMap<>();
    private int pagers = 1;

    private ScenarioObjects(ScenarioParser parser) {
        this.parser = parser;
    }

    /** Reads {@code pagers} and {@code objects} of {@code root}; an object without a pager is on pager 0. */
    static ScenarioObjects read(ScenarioParser parser, JsonNode root, long defaultSize) {
        ScenarioObjects o = new ScenarioObjects(parser);
        o.readPagers(root);
        o.readObjects(root, defaultSize);
        return o;
    }

    Map<String, Long> sizes() {
        return sizes;
    }

    /** Which pager serves each object (every object named, none by the hash rule). */
    PagerDirectory directory() {
        return pagers == 1 ? PagerDirectory.SINGLE : PagerDirectory.of(pagers, pagerOf);
    }

    private void readPagers(JsonNode root) {
        long n = parser.integer(root, "pagers", "", 1);
        if (n < 1 || n > PagerDirectory.MAX_PAGERS) {
            parser.error(parser.tree.line(root, "pagers"), "", "pagers " + n + " must be 1 to "
                    + PagerDirectory.MAX_PAGERS);
            return;
        }
        pagers = (int) n;
    }

    private void readObjects(JsonNode root, long defaultSize) {
        JsonNode node = root.get("objects");
        if (node == null) {
            add("shared", defaultSize, 0);
            return;
        }
        if (!node.isObject() || node.isEmpty()) {
            parser.error(parser.tree.line(root, "objects"), "", "'objects' maps object names to sizes, like "
                    + "{shared: 64KiB}, or to {size: 64KiB, pager: 1} with several pagers");
            add("shared", defaultSize, 0);
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = "object " + e.getKey();
            int line = parser.tree.line(node, e.getKey());
            JsonNode v = e.getValue();
            long size;
            int pager = 0;
            if (v.isObject()) {
                if (!parser.onlyKeys(v, OBJECT, where, line, "an object takes size and pager")) {
                    continue;
                }
                if (v.get("size") == null) {
                    parser.error(line, where, "an object written as a mapping needs its size, like {size: 64KiB, pager: 1}");
                    continue;
                }
                size = parser.size(v.get("size"), parser.tree.line(v, "size"), where);
                long p = parser.integer(v, "pager", where, 0);
                if (p < 0 || p >= pagers) {
                    parser.error(parser.tree.line(v, "pager"), where, "pager " + p + " is not one of the scenario's "
                            + pagers + " pager(s), numbered 0 to " + (pagers - 1) + (pagers == 1
                            ? "; say how many with pagers: N at the top" : ""));
                    continue;
                }
                pager = (int) p;
            } else {
                size = parser.size(v, line, where);
            }
            if (size <= 0 || size % 4096 != 0) {
                parser.error(line, where, "size " + size + " is not a positive multiple of the page size, 4096");
            }
            add(e.getKey(), size, pager);
        }
    }

    private void add(String name, long size, int pager) {
        sizes.put(name, size);
        pagerOf.put(name, pager);
    }
}
