// The bench imports modules from src/ (token, decision, envelope; bench/regions: the key check); the Node-side typecheck
// (tsconfig.node.json) then meets the Workers globals their types mention. These are those globals in
// their Node shapes (the same WebCrypto and fetch APIs); nothing here exists at run time.
type CryptoKey = import("node:crypto").webcrypto.CryptoKey;
type HeadersInit = ConstructorParameters<typeof Headers>[0];
type RequestInfo = Request | string;
interface Queue<Body = unknown> {
  send(body: Body, options?: unknown): Promise<void>;
}
