import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createPhoneApi } from './api';
import { PhoneApp } from './PhoneApp';
import '../styles/base.css';
import './phone.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PhoneApp api={createPhoneApi()} />
  </StrictMode>,
);
