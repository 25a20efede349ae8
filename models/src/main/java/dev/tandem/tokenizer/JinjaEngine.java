package dev.tandem.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.javax.el.ArrayELResolver;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The one jinjava instance every chat template renders with, set up to behave like the jinja2 environment
 * transformers renders chat templates in ({@code ImmutableSandboxedEnvironment(trim_blocks=True,
 * lstrip_blocks=True, extensions=[loopcontrols])}):
 * <ul>
 *   <li>trim_blocks, and {@code {{-}}/{#-} trimming as jinja2 does it; lstrip_blocks by {@link JinjaLstrip};</li>
 *   <li>jinja2's expression grammar where jinjava's differs ({@link JinjaParser});</li>
 *   <li>Python string and dict methods ({@link JinjaPyMethods});</li>
 *   <li>filters {@code tojson} (json.dumps without ASCII escaping, {@code indent=}; {@link JinjaJson}),
 *       {@code trim} (Python's strip), {@code items};</li>
 *   <li>globals {@code raise_exception(msg)} and {@code strftime_now(fmt)} (the clock of the render).</li>
 * </ul>
 * Thread-safe: the instance holds only configuration; each render gets its own interpreter.
 */
final class JinjaEngine {
    /** Context variable holding the render's {@link Clock}; read by {@link #strftimeNow}. */
    static final String CLOCK_VARIABLE = "__tandem_clock__";

    static final Jinjava JINJAVA = create();

    private JinjaEngine() {
    }

    /** Thrown by {@code raise_exception}; found again among the render's errors. */
    static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message, null, false, false);
        }
    }

    private static Jinjava create() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new JinjaPyMethods());
        resolver.add(new ArrayELResolver(true));
        resolver.add(new JinjavaListELResolver(true));
        resolver.add(new TypeConvertingMapELResolver(true));
        resolver.add(new JinjavaBeanELResolver(true));
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(false) // JinjaLstrip does it jinja2's way
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUsePyishObjectMapper(true)
                        .withWhitespaceRequiredWithinTokens(false)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withAllowAdjacentTextNodes(true)
                        .build())
                .build();
        Properties properties = new Properties();
        properties.setProperty(TreeBuilder.class.getName(), JinjaParser.SyntaxBuilder.class.getName());
        ExpressionFactory factory = new ExpressionFactoryImpl(properties, new TruthyTypeConverter());
        Jinjava jinjava = new Jinjava(config) {
            @Override
            public ExpressionFactory getExpressionFactory() {
                return factory;
            }
        };
        jinjava.getGlobalContext().registerFunction(function("raise_exception", "raiseException", Object.class));
        jinjava.getGlobalContext().registerFunction(function("strftime_now", "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new ToJson());
        jinjava.getGlobalContext().registerFilter(new Trim());
        jinjava.getGlobalContext().registerFilter(new Items());
        return jinjava;
    }

    private static ELFunctionDefinition function(String name, String method, Class<?> parameter) {
        try {
            java.lang.reflect.Method m = JinjaEngine.class.getDeclaredMethod(method, parameter);
            m.setAccessible(true); // this class is package-private; jinjava calls through reflection
            return new ELFunctionDefinition("", name, m);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code raise_exception(message)}: the template refuses the conversation. */
    static Object raiseException(Object message) {
        throw new Raised(String.valueOf(message));
    }

    /** {@code strftime_now(format)}: the render's clock, formatted as Python's strftime does. */
    static String strftimeNow(String format) {
        Object clock = JinjavaInterpreter.getCurrent().getContext().get(CLOCK_VARIABLE);
        Clock c = clock instanceof Clock given ? given : Clock.systemDefaultZone();
        return Strftime.format(format, ZonedDateTime.now(c));
    }

    private static final class ToJson implements AdvancedFilter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return JinjaJson.dumps(var, indent instanceof Number n ? n.intValue() : -1);
        }
    }

    private static final class Trim implements AdvancedFilter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            String s = var == null ? "" : String.valueOf(var);
            String chars = args.length > 0 && args[0] != null ? String.valueOf(args[0]) : null;
            return JinjaPyMethods.rstrip(JinjaPyMethods.lstrip(s, chars), chars);
        }
    }

    private static final class Items implements AdvancedFilter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            List<Map.Entry<Object, Object>> items = new ArrayList<>();
            if (var instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    items.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
                }
            }
            return items;
        }
    }
}
