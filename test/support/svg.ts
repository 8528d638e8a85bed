/**
 * Reading an SVG in tests: parsed by Effect's XML decoder (which checks that it is well-formed XML)
 * into a tree, and small queries over it.
 */
import * as Effect from "effect/Effect"
import * as Xml from "effect/encoding/Xml"
import * as Stream from "effect/Stream"

export type { Element } from "effect/encoding/Xml"

/** The document's `<svg>` root element; rejects when the text is not well-formed XML with one svg root. */
export const parseSvg = (text: string): Promise<Xml.Element> =>
  Effect.runPromise(
    Stream.make(text).pipe(
      Stream.pipeThroughChannel(Xml.decodeString()),
      Stream.pipeThroughChannel(Xml.elements(["svg"])),
      Stream.runCollect
    )
  ).then((roots) => {
    const [root] = roots
    if (root === undefined || roots.length !== 1) throw new Error("expected one <svg> root")
    return root
  })

export const children = (e: Xml.Element): ReadonlyArray<Xml.Element> =>
  e.children.filter((c): c is Xml.Element => typeof c !== "string")

/** Every element under `e` (itself included) matching the test, in document order. */
export const findAll = (e: Xml.Element, test: (e: Xml.Element) => boolean): ReadonlyArray<Xml.Element> => [
  ...(test(e) ? [e] : []),
  ...children(e).flatMap((c) => findAll(c, test))
]

/** Elements named `name` with class `cls`. */
export const byClass = (root: Xml.Element, name: string, cls: string): ReadonlyArray<Xml.Element> =>
  findAll(root, (e) => e.name === name && (e.attributes["class"] ?? "").split(" ").includes(cls))

/** The text inside an element. */
export const textOf = (e: Xml.Element): string =>
  e.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("")
