package io.machxp.scenario;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * A YAML document as Jackson nodes, with the line each mapping, sequence, key and sequence
 * element starts on, so that a mistake can name its line. Read token by token with Jackson's
 * YAML parser, whose token locations are SnakeYAML's marks; values are the nodes Jackson's
 * {@code readTree} would give. A key that appears twice in one mapping is kept once (the last)
 * and listed in {@link #duplicateKeys()}.
 */
final class YamlTree {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** A document that is not YAML: where, and why in one sentence. */
    static final class Malformed extends Exception {
        final int line;
        /** 1-based; 0 when the parser did not say. */
        final int column;

        Malformed(int line, int column, String cause) {
            super(cause);
            this.line = line;
            this.column = column;
        }
    }

    /** A key written twice in one mapping. */
    record DuplicateKey(String key, int line) {}

    private final Map<JsonNode, Integer> starts = new IdentityHashMap<>();
    private final Map<JsonNode, Map<String, Integer>> keyLines = new IdentityHashMap<>();
    private final Map<JsonNode, List<Integer>> elementLines = new IdentityHashMap<>();
    private final List<DuplicateKey> duplicates = new ArrayList<>();
    private JsonNode root;

    private YamlTree() {}

    /** The document's first YAML document; its root is null when it is empty. */
    static YamlTree read(String yaml) throws Malformed {
        YamlTree tree = new YamlTree();
        try (JsonParser p = new YAMLFactory().createParser(yaml)) {
            try {
                tree.root = p.nextToken() == null ? null : tree.node(p);
            } catch (JacksonException e) {
                throw malformed(e, p);
            }
        } catch (IOException e) {
            throw new Malformed(0, 0, oneLine(e.getMessage()));
        }
        return tree;
    }

    JsonNode root() {
        return root;
    }

    List<DuplicateKey> duplicateKeys() {
        return duplicates;
    }

    /** The line {@code node} (a mapping or a sequence of this tree) starts on; 0 if unknown. */
    int line(JsonNode node) {
        return starts.getOrDefault(node, 0);
    }

    /** The line of {@code key} in mapping {@code node}, else the line the mapping starts on. */
    int line(JsonNode node, String key) {
        Integer line = keyLines.getOrDefault(node, Map.of()).get(key);
        return line != null ? line : line(node);
    }

    /** The line element {@code index} of sequence {@code node} starts on. */
    int line(JsonNode node, int index) {
        List<Integer> lines = elementLines.get(node);
        return lines != null && index < lines.size() ? lines.get(index) : line(node);
    }

    private JsonNode node(JsonParser p) throws IOException {
        int line = p.currentTokenLocation().getLineNr();
        JsonToken token = p.currentToken();
        switch (token) {
            case START_OBJECT -> {
                ObjectNode o = NODES.objectNode();
                Map<String, Integer> keys = new HashMap<>();
                starts.put(o, line);
                keyLines.put(o, keys);
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    int keyLine = p.currentTokenLocation().getLineNr();
                    p.nextToken();
                    JsonNode value = node(p);
                    if (o.has(key)) {
                        duplicates.add(new DuplicateKey(key, keyLine));
                    }
                    o.set(key, value);
                    keys.put(key, keyLine);
                }
                return o;
            }
            case START_ARRAY -> {
                ArrayNode a = NODES.arrayNode();
                List<Integer> lines = new ArrayList<>();
                starts.put(a, line);
                elementLines.put(a, lines);
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    lines.add(p.currentTokenLocation().getLineNr());
                    a.add(node(p));
                }
                return a;
            }
            case VALUE_STRING -> {
                return NODES.textNode(p.getText());
            }
            case VALUE_NUMBER_INT -> {
                return switch (p.getNumberType()) {
                    case INT -> NODES.numberNode(p.getIntValue());
                    case LONG -> NODES.numberNode(p.getLongValue());
                    default -> NODES.numberNode(p.getBigIntegerValue());
                };
            }
            case VALUE_NUMBER_FLOAT -> {
                return NODES.numberNode(p.getDoubleValue());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return NODES.booleanNode(token == JsonToken.VALUE_TRUE);
            }
            case VALUE_NULL -> {
                return NODES.nullNode();
            }
            default -> {
                return NODES.textNode(p.getText());
            }
        }
    }

    /** SnakeYAML's problem and mark when it has them, rather than its several lines of context. */
    private static Malformed malformed(JacksonException e, JsonParser p) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException m && m.getProblemMark() != null) {
                String problem = m.getProblem() != null ? m.getProblem() : m.getContext();
                String context = m.getContext() != null && m.getProblem() != null ? " (" + m.getContext() + ")" : "";
                return new Malformed(m.getProblemMark().getLine() + 1, m.getProblemMark().getColumn() + 1,
                        oneLine(problem + context));
            }
        }
        var where = e.getLocation() != null ? e.getLocation() : p.currentLocation();
        return new Malformed(Math.max(where.getLineNr(), 0), Math.max(where.getColumnNr(), 0),
                oneLine(e.getOriginalMessage()));
    }

    private static String oneLine(String s) {
        return s == null ? "unreadable" : s.lines().findFirst().orElse("").strip();
    }
}
