package dev.tandem.tokenizer;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.Scanner.Token;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

import java.util.ArrayList;
import java.util.List;

/**
 * jinjava's expression parser with three corrections that make it read expressions the way jinja2 does:
 * <ul>
 *   <li>{@code not} binds looser than comparisons and tests: {@code not x is defined} is {@code not (x is defined)},
 *       {@code not a == b} is {@code not (a == b)} (jinjava negates {@code x} alone);</li>
 *   <li>a keyword argument takes a whole expression: {@code namespace(i=xs|length - 1)} (jinjava stops at the
 *       first {@code +}/{@code -});</li>
 *   <li>slices take an optional step with Python's rules: {@code xs[::-1]}, {@code s[1:-1]} ({@link JinjaSlice}).</li>
 * </ul>
 * It assumes jinjava's "natural operator precedence" (filters and tests bind tighter than arithmetic), which
 * {@link JinjaEngine} switches on.
 */
final class JinjaParser extends ExtendedParser {

    JinjaParser(Builder context, String input) {
        super(context, input);
    }

    /** Builds {@link JinjaParser}s; named by class in the expression factory's properties. */
    public static final class SyntaxBuilder extends ExtendedSyntaxBuilder {
        private static final long serialVersionUID = 1L;

        public SyntaxBuilder() {
            super();
        }

        public SyntaxBuilder(Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new JinjaParser(this, expression);
        }
    }

    @Override
    protected AstNode and(boolean required) throws ScanException, ParseException {
        AstNode v = not(required);
        if (v == null) {
            return null;
        }
        while (true) {
            Token t = getToken();
            if (t.getSymbol() == Symbol.AND) {
                consumeToken();
                v = createAstBinary(v, not(true), AstBinary.AND);
            } else if (t.getSymbol() == Symbol.EXTENSION
                    && getExtensionHandler(t).getExtensionPoint() == ExtensionPoint.AND) {
                v = getExtensionHandler(consumeToken()).createAstNode(v, not(true));
            } else {
                return v;
            }
        }
    }

    /** jinja2's {@code not_expr}: between {@code and} and the comparisons. */
    private AstNode not(boolean required) throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.NOT) {
            consumeToken();
            return createAstUnary(not(true), AstUnary.NOT);
        }
        return eq(required);
    }

    @Override
    protected AstParameters params(Symbol left, Symbol right) throws ScanException, ParseException {
        consumeToken(left);
        List<AstNode> list = new ArrayList<>();
        if (getToken().getSymbol() != right) {
            list.add(param());
            while (getToken().getSymbol() == Symbol.COMMA) {
                consumeToken();
                if (getToken().getSymbol() == right) {
                    break; // Python allows a trailing comma
                }
                list.add(param());
            }
        }
        consumeToken(right);
        return createAstParameters(list);
    }

    private AstNode param() throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.IDENTIFIER) {
            Token next = lookahead(0);
            if (next.getSymbol() == Symbol.EXTENSION && "=".equals(next.getImage())) {
                String name = consumeToken().getImage();
                consumeToken(); // '='
                return new AstNamedParameter(identifier(name), expr(true));
            }
        }
        return expr(true);
    }

    @Override
    protected AstNode value() throws ScanException, ParseException {
        boolean lvalue = true;
        AstNode v = nonliteral();
        if (v == null) {
            v = literal();
            if (v == null) {
                return null;
            }
            lvalue = false;
        }
        while (true) {
            switch (getToken().getSymbol()) {
                case DOT -> {
                    consumeToken();
                    String name = consumeToken(Symbol.IDENTIFIER).getImage();
                    AstDot dot = createAstDot(v, name, lvalue);
                    v = getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)
                            ? createAstMethod(dot, params())
                            : dot;
                }
                case LBRACK -> v = subscript(v, lvalue);
                default -> {
                    return v;
                }
            }
        }
    }

    /** After {@code base}: {@code [index]} or a slice {@code [start:stop:step]}, any part optional. */
    private AstNode subscript(AstNode base, boolean lvalue) throws ScanException, ParseException {
        consumeToken(); // '['
        AstNode start = getToken().getSymbol() == Symbol.COLON ? null : expr(true);
        if (getToken().getSymbol() == Symbol.RBRACK) {
            consumeToken();
            AstBracket bracket = createAstBracket(base, start, lvalue, !context.isEnabled(Builder.Feature.NULL_PROPERTIES));
            return getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)
                    ? createAstMethod(bracket, params())
                    : bracket;
        }
        consumeToken(Symbol.COLON);
        AstNode stop = isSliceEnd() ? null : expr(true);
        AstNode step = null;
        if (getToken().getSymbol() == Symbol.COLON) {
            consumeToken();
            step = isSliceEnd() ? null : expr(true);
        }
        consumeToken(Symbol.RBRACK);
        return new JinjaSlice(base, start, stop, step);
    }

    private boolean isSliceEnd() {
        Symbol s = getToken().getSymbol();
        return s == Symbol.COLON || s == Symbol.RBRACK;
    }
}
