import type { ComponentType } from 'react';
import { anchorPage } from './Anchor';
import { communityPage } from './Community';
import { explorerPage } from './Explorer';
import { flexPage } from './Flex';
import { marketPage } from './Market';
import { operatorPage } from './Operator';
import { paymentsPage } from './Payments';
import { plantPage } from './Plant';
import { privateTradingPage } from './PrivateTrading';
import { prosumerPage } from './Prosumer';

/** A page of the dashboard: its id (the #/id route), its tab title and its component. */
export interface PageDef {
  id: string;
  title: string;
  component: ComponentType;
}

/**
 * The pages, in tab order. A later module (payments, market, flexibility, anchoring) adds its page
 * as one file in this folder exporting a PageDef and one line here.
 */
export const PAGES: readonly PageDef[] = [explorerPage, communityPage, prosumerPage, plantPage, paymentsPage, marketPage, privateTradingPage, flexPage, anchorPage, operatorPage];
