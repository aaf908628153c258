#!/usr/bin/env node
import { main, processContext } from './main.js';

process.exitCode = await main(process.argv.slice(2), processContext());
