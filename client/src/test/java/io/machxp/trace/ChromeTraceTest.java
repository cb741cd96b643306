package io.machxp.trace;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioRun;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.Map;
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

    static XpTrace traced() {
        XpTrace trace = new XpTrace();
        ScenarioRun.sim(SCENARIO, 1, true, trace);
        return trace;
    }

    @Test
    void theJsonHasTheTraceEventFormatsStructure() throws Exception {
        Map<Integer, String> processes = TraceEventFormat.assertValid(ChromeTrace.json(traced()));
        assertThat(processes.values()).containsExactly("pager", "kernel A", "kernel B");
    }

    @Test
    void everyMessageIsAFlowFromItsSendingToItsArrivalBetweenTwoSlices() throws Exception {
        XpTrace trace = traced();
        JsonNode events = new ObjectMapper().readTree(ChromeTrace.json(trace)).get("traceEvents");
        assertThat(TraceEventFormat.assertFlows(events)).isEqualTo(trace.messages().size());
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
