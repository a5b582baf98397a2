/** playwright-core types without a root dependency (the package is installed in web/). */
export type { Browser, BrowserContext, Page, ConsoleMessage, Request as PwRequest } from "playwright-core";
