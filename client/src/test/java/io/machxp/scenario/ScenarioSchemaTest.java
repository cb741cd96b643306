package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * scenarios/schema.json: every shipped scenario passes it, a file with mistakes does not, and it
 * has the keys and outcomes the parser has ({@link ScenarioFormat}), no more and no fewer.
 */
class ScenarioSchemaTest {
    static final Path SCHEMA = ShippedScenariosTest.DIR.resolve("schema.json");

    static Schema schema() throws IOException {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(Files.readString(SCHEMA), InputFormat.JSON);
    }

    static JsonNode schemaTree() throws IOException {
        return new ObjectMapper().readTree(SCHEMA.toFile());
    }

    @ParameterizedTest
    @MethodSource("io.machxp.scenario.ShippedScenariosTest#scenarios")
    void everyShippedScenarioPassesTheSchema(Path file) throws IOException {
        List<Error> errors = schema().validate(Files.readString(file), InputFormat.YAML);
        assertThat(errors).as(file.toString()).isEmpty();
    }

    @Test
    void aFileWithMistakesFailsTheSchema() throws IOException {
        List<Error> errors = schema().validate(ScenarioParserTest.NEWCOMER, InputFormat.YAML);
        assertThat(errors.stream().map(e -> e.getInstanceLocation().toString()).distinct())
                .contains("/threads/0/program/1", "/threads/0/program/2", "/threads/1/program/0",
                        "/threads/1/program/1", "/expect/1")
                .noneMatch(where -> where.startsWith("/threads/0/program/0") || where.startsWith("/expect/0"));
        assertThat(schema().validate("kernels: [{name: A, cpus: 0}]\nthreads: [{name: T, program: [exit]}]\n",
                InputFormat.YAML)).isNotEmpty();
        assertThat(schema().validate("kernels: [{name: A}]\nthreads: [{name: T, program: [{compute: 5 parsecs}]}]\n",
                InputFormat.YAML)).isNotEmpty();
        assertThat(schema().validate("kernels: [{name: A}]\nthreads: [{name: T, program: [exit]}]\n",
                InputFormat.YAML)).isEmpty();
    }

    @Test
    void theSchemaHasTheParsersKeys() throws IOException {
        JsonNode s = schemaTree();
        JsonNode defs = s.get("$defs");
        assertThat(keys(s.get("properties"))).containsExactlyElementsOf(ScenarioFormat.TOP);
        assertThat(keys(s.at("/properties/network/properties"))).containsExactlyElementsOf(ScenarioFormat.NETWORK);
        assertThat(keys(defs.at("/kernel/properties"))).containsExactlyElementsOf(ScenarioFormat.KERNEL);
        assertThat(keys(defs.at("/word/oneOf/1/properties"))).containsExactlyElementsOf(ScenarioFormat.WORD);
        assertThat(keys(defs.at("/thread/properties"))).containsExactlyElementsOf(ScenarioFormat.THREAD);
        assertThat(keys(defs.at("/expectation/properties"))).containsExactlyElementsOf(ScenarioFormat.EXPECTATION);
        List<String> oneOfKinds = new ArrayList<>();
        defs.at("/expectation/oneOf").forEach(r -> oneOfKinds.add(r.get("required").get(0).asText()));
        assertThat(oneOfKinds).containsExactlyElementsOf(ScenarioFormat.EXPECTATION_KINDS);
        assertThat(strings(defs.at("/expectation/properties/when/enum"))).containsExactlyElementsOf(ScenarioFormat.WHEN);
        List<String> stepRefs = new ArrayList<>();
        defs.at("/step/oneOf").forEach(r -> {
            if (r.has("$ref")) {
                stepRefs.add(r.get("$ref").asText());
            }
        });
        assertThat(stepRefs).containsExactlyElementsOf(ScenarioFormat.stepKinds().stream()
                .map(k -> "#/$defs/" + k + "Step").toList());
        assertThat(strings(defs.at("/step/oneOf/0/enum"))).containsExactly("exit", "die");
    }

    @ParameterizedTest
    @EnumSource(Step.Kind.class)
    void eachStepHasTheParsersKeysAndOutcomes(Step.Kind kind) throws IOException {
        JsonNode step = schemaTree().get("$defs").get(kind.key + "Step");
        assertThat(keys(step.get("properties"))).containsExactlyElementsOf(ScenarioFormat.stepKeys(kind));
        assertThat(step.get("additionalProperties").asBoolean(true)).isFalse();
        JsonNode expect = step.get("properties").get("expect");
        assertThat(expect == null ? List.of() : strings(expect.get("enum")))
                .containsExactlyElementsOf(ScenarioFormat.outcomes(kind));
        assertThat(ScenarioFormat.OUTCOMES).containsAll(ScenarioFormat.outcomes(kind));
    }

    private static Set<String> keys(JsonNode mapping) {
        Set<String> keys = new LinkedHashSet<>();
        mapping.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }
}
