package io.machxp.trace;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioRun;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;

/**
 * A trace of scenarios/cross-kernel-inversion.yaml in the simulator has the structure of Chrome's
 * trace-event format (the JSON object form Perfetto reads), holds the run's XP messages with
 * flows from send to arrival, and renders as a well-formed SVG sequence chart.
 */
class ChromeTraceTest {
    static final Scenario SCENARIO = ScenarioParser.parse(Path.of("..", "scenarios", "cross-kernel-inversion.yaml"));
    static final Set<String> PHASES = Set.of("M", "X", "i", "s", "f", "C");

    static XpTrace traced() {
        XpTrace trace = new XpTrace();
        ScenarioRun.sim(SCENARIO, 1, true, trace);
        return trace;
    }

    @Test
    void theJsonHasTheTraceEventFormatsStructure() throws Exception {
        JsonNode root = new ObjectMapper().readTree(ChromeTrace.json(traced()));
        assertThat(root.get("traceEvents").isArray()).isTrue();
        Map<Integer, String> processes = new HashMap<>();
        Set<String> namedThreads = new HashSet<>();
        for (JsonNode e : root.get("traceEvents")) {
            assertThat(e.get("ph").asText()).isIn(PHASES);
            assertThat(e.get("pid").isInt()).isTrue();
            assertThat(e.get("tid").isInt()).isTrue();
            assertThat(e.get("name").isTextual()).isTrue();
            if (e.get("ph").asText().equals("M")) {
                if (e.get("name").asText().equals("process_name")) {
                    processes.put(e.get("pid").asInt(), e.get("args").get("name").asText());
                } else if (e.get("name").asText().equals("thread_name")) {
                    namedThreads.add(e.get("pid").asInt() + "/" + e.get("tid").asInt());
                }
            } else {
                assertThat(e.get("ts").isNumber()).as("ts of %s", e).isTrue();
                assertThat(e.get("ts").asDouble()).isGreaterThanOrEqualTo(0);
            }
        }
        assertThat(processes.values()).containsExactly("pager", "kernel A", "kernel B");
        for (JsonNode e : root.get("traceEvents")) {
            if (!e.get("ph").asText().equals("M") && !e.get("ph").asText().equals("C")) {
                assertThat(processes).containsKey(e.get("pid").asInt());
                assertThat(namedThreads).as("thread of %s", e).contains(e.get("pid").asInt() + "/" + e.get("tid").asInt());
            }
        }
    }

    @Test
    void everyMessageIsAFlowFromItsSendingToItsArrivalBetweenTwoSlices() throws Exception {
        XpTrace trace = traced();
        JsonNode events = new ObjectMapper().readTree(ChromeTrace.json(trace)).get("traceEvents");
        Map<Integer, JsonNode> starts = new HashMap<>();
        Map<Integer, JsonNode> finishes = new HashMap<>();
        for (JsonNode e : events) {
            if (e.get("ph").asText().equals("s")) {
                starts.put(e.get("id").asInt(), e);
            } else if (e.get("ph").asText().equals("f")) {
                assertThat(e.get("bp").asText()).isEqualTo("e");
                finishes.put(e.get("id").asInt(), e);
            }
        }
        assertThat(starts).hasSize(trace.messages().size());
        assertThat(finishes.keySet()).isEqualTo(starts.keySet());
        starts.forEach((id, s) -> {
            JsonNode f = finishes.get(id);
            assertThat(f.get("ts").asDouble()).isGreaterThanOrEqualTo(s.get("ts").asDouble());
            assertThat(f.get("pid").asInt()).isNotEqualTo(s.get("pid").asInt());
            // each end lies on a message slice of its own process and thread, at its time
            for (JsonNode end : List.of(s, f)) {
                assertThat(events).anySatisfy(x -> {
                    assertThat(x.get("ph").asText()).isEqualTo("X");
                    assertThat(x.get("pid").asInt()).isEqualTo(end.get("pid").asInt());
                    assertThat(x.get("tid").asInt()).isEqualTo(end.get("tid").asInt());
                    assertThat(x.get("ts").asDouble()).isEqualTo(end.get("ts").asDouble());
                });
            }
        });
    }

    @Test
    void theTraceHoldsTheInversionsMessagesBoostAndPageMove() {
        XpTrace trace = traced();
        // B asks at priority 90, the pager passes 90 on to A, A's release carries the page to B
        assertThat(trace.messages()).anySatisfy(m -> {
            assertThat(m.from() + " " + m.routine()).isEqualTo("B lock_futex");
            assertThat(m.detail()).contains("priority=90");
        });
        assertThat(trace.messages()).anySatisfy(m -> {
            assertThat(m.to() + " " + m.routine()).isEqualTo("A relinquish_futex");
            assertThat(m.detail()).contains("priority=90");
        });
        assertThat(trace.messages()).anySatisfy(m -> {
            assertThat(m.from() + " " + m.routine()).isEqualTo("A futex_released");
            assertThat(m.pages()).isEqualTo(1);
        });
        assertThat(trace.marks()).anySatisfy(k -> assertThat(k.thread() + " " + k.event() + " " + k.detail())
                .isEqualTo("L boost 10 -> 90"));
        assertThat(trace.messages()).allSatisfy(m -> assertThat(m.arrives()).isGreaterThan(m.sent()));
    }

    @Test
    void theSequenceChartIsSvgWithALifelinePerNodeAndAnArrowPerMessage() throws Exception {
        XpTrace trace = traced();
        SequenceChart.Window futexM = new SequenceChart.Window(0, 4096, trace.origin(), Long.MAX_VALUE);
        String svg = SequenceChart.svg(trace, futexM, t -> Long.toString(t));
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        Document doc = f.newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
        long shown = trace.messages().stream().filter(futexM::shows).count();
        int arrows = 0;
        int lifelines = 0;
        var lines = doc.getElementsByTagName("line");
        for (int i = 0; i < lines.getLength(); i++) {
            String cls = lines.item(i).getAttributes().getNamedItem("class").getNodeValue();
            arrows += cls.startsWith("xp") ? 1 : 0;
            lifelines += cls.equals("life") ? 1 : 0;
        }
        assertThat(lifelines).isEqualTo(3);
        assertThat(arrows).isEqualTo(shown).isGreaterThanOrEqualTo(6);
        assertThat(svg).contains("relinquish_futex", "futex_released +1 page", "L boost 10 -&gt; 90");
    }
}
